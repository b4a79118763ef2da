package io.backbeatserverless.core.ops;

import io.backbeatserverless.core.entry.StatusEntry;

import java.util.List;

/**
 * S3 Replication's metrics, per site: how long replication took ({@code ReplicationLatency}), what failed
 * ({@code OperationsFailedReplication}), what is still to replicate ({@code OperationsPendingReplication},
 * {@code BytesPendingReplication}), and what completed ({@code OperationsReplicated}, {@code BytesReplicated}).
 */
public interface ReplicationMetrics {

    /** The outcomes of one source bucket at one site that changed its status, counted once. */
    void outcomes(String site, String bucket, List<StatusEntry> counted);

    /**
     * A backfill page's versions completed at a site (issue 29), counted once: operations and bytes replicated. No
     * ReplicationLatency: a version that existed before its rule has no replication time worth an alarm.
     */
    default void pageCompleted(String site, String bucket, long completed, long completedBytes) {
    }

    /** The site's backlog (every minute): operations and bytes queued and not yet replicated, failed or skipped. */
    void pending(String site, Counters totals);

    /** Ours (issue 31): the site's failed versions waiting for their automatic retry (every minute). */
    default void waitingForRetry(String site, long operations) {
    }

    ReplicationMetrics NONE = new ReplicationMetrics() {
        @Override
        public void outcomes(String site, String bucket, List<StatusEntry> counted) {
        }

        @Override
        public void pending(String site, Counters totals) {
        }
    };
}
