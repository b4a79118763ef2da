package io.backbeatserverless.core.ops;

import java.time.Instant;

/** A site's replication switch (Backbeat's ZooKeeper {@code /state/<site>}): paused or not, and when it resumes by itself. */
public record SiteState(String site, boolean paused, Instant scheduledResume) {

    public static SiteState active(String site) {
        return new SiteState(site, false, null);
    }
}
