package io.backbeatserverless.core.ops;

/**
 * Replication counts and bytes of a site over some period: queued by the populator (or a retry),
 * completed, failed, skipped by its replicator. Backlog = queued - completed - failed - skipped.
 */
public record Counters(long queued, long queuedBytes, long completed, long completedBytes, long failed, long failedBytes,
                       long skipped, long skippedBytes) {

    public static final Counters ZERO = new Counters(0, 0, 0, 0, 0, 0, 0, 0);

    public static Counters queued(long count, long bytes) {
        return new Counters(count, bytes, 0, 0, 0, 0, 0, 0);
    }

    public Counters plus(Counters o) {
        return new Counters(queued + o.queued, queuedBytes + o.queuedBytes, completed + o.completed,
                completedBytes + o.completedBytes, failed + o.failed, failedBytes + o.failedBytes,
                skipped + o.skipped, skippedBytes + o.skippedBytes);
    }

    public long backlog() {
        return Math.max(0, queued - completed - failed - skipped);
    }

    public long backlogBytes() {
        return Math.max(0, queuedBytes - completedBytes - failedBytes - skippedBytes);
    }

    public boolean isZero() {
        return this.equals(ZERO);
    }
}
