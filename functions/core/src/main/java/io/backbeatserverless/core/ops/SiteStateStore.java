package io.backbeatserverless.core.ops;

import java.time.Instant;
import java.util.Optional;

/** Where site states live (DynamoDB in this project, ZooKeeper in Backbeat). */
public interface SiteStateStore {

    Optional<SiteState> find(String site);

    void save(SiteState state);

    default SiteState get(String site) {
        return find(site).orElse(SiteState.active(site));
    }

    /** Clears a scheduled resume only if it is still {@code expected}: a newer schedule or a manual change wins. */
    boolean resumeIfScheduled(String site, Instant expected);
}
