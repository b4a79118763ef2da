package io.backbeatserverless.ops;

/**
 * Turns a site's replicator on or off where it runs: locally the event source runner of its consumer
 * group, in AWS its event source mapping (Lambda {@code UpdateEventSourceMapping}). Turning it off loses
 * nothing: the group's committed offsets stay, and it resumes from them.
 */
public interface SiteControl {

    void setEnabled(String site, boolean enabled);

    /** For deployments where another component applies the stored state. */
    SiteControl NONE = (site, enabled) -> {
    };
}
