package io.backbeatserverless.core.status;

import java.util.Map;

/**
 * Backbeat's status rules, in one place: a site's COMPLETED is final, and an object's overall status
 * is FAILED if any site failed, PROCESSING while any site is still pending, else COMPLETED. A
 * SKIPPED site is final too and counts as done.
 */
public final class StatusMerge {

    private StatusMerge() {
    }

    /** The status a site moves to when {@code incoming} is reported while it is at {@code current} (null: unknown). */
    public static ReplicationStatus nextSiteStatus(ReplicationStatus current, ReplicationStatus incoming) {
        if (current != null && current.isFinal()) {
            return current;
        }
        return incoming;
    }

    /** True when reporting {@code incoming} changes a site now at {@code current}. */
    public static boolean changesSite(ReplicationStatus current, ReplicationStatus incoming) {
        return nextSiteStatus(current, incoming) != current;
    }

    /**
     * Overall status of an object from its per-site statuses. Before any site reported (all
     * PENDING) the object is PENDING, as CloudServer shows a freshly written version.
     */
    public static ReplicationStatus overall(Map<String, ReplicationStatus> bySite) {
        if (bySite.isEmpty()) {
            return ReplicationStatus.PENDING;
        }
        boolean anyPending = false;
        boolean anyReported = false;
        for (ReplicationStatus s : bySite.values()) {
            switch (s) {
                case FAILED -> {
                    return ReplicationStatus.FAILED;
                }
                case PENDING -> anyPending = true;
                case PROCESSING -> {
                    anyPending = true;
                    anyReported = true;
                }
                default -> anyReported = true;
            }
        }
        if (!anyPending) {
            return ReplicationStatus.COMPLETED;
        }
        return anyReported ? ReplicationStatus.PROCESSING : ReplicationStatus.PENDING;
    }
}
