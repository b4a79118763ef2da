package io.backbeatserverless.core.ops;

import java.time.Instant;

/**
 * A version that failed to replicate to a site, kept for an operator to see and retry (Backbeat's
 * {@code bb:crr:failed:<site>} sorted sets). {@code entry} is the replication entry as it was queued,
 * so a retry re-publishes it without reading the source again.
 *
 * @param retryable   its cause is transient: it is retried on its own at {@code nextRetryAt} (issue 31)
 * @param autoRetries the automatic retries made before this failure
 * @param nextRetryAt when it is queued again on its own; null: never (a permanent cause, or its site's schedule ended)
 */
public record FailedEntry(String site, Instant failedAt, String bucket, String objectKey, String versionId, long size,
                          String lastModified, String reason, int attempts, String entry, Instant expiresAt,
                          boolean retryable, int autoRetries, Instant nextRetryAt) {

    public FailedEntry(String site, Instant failedAt, String bucket, String objectKey, String versionId, long size, String lastModified,
                       String reason, int attempts, String entry, Instant expiresAt) {
        this(site, failedAt, bucket, objectKey, versionId, size, lastModified, reason, attempts, entry, expiresAt, false, 0, null);
    }

    /** Due for its automatic retry at {@code now}. */
    public boolean retryDue(Instant now) {
        return nextRetryAt != null && !nextRetryAt.isAfter(now) && !isExpired(now);
    }

    public boolean isExpired(Instant now) {
        return expiresAt != null && !expiresAt.isAfter(now);
    }
}
