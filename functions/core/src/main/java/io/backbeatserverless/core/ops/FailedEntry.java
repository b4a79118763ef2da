package io.backbeatserverless.core.ops;

import java.time.Instant;

/**
 * A version that failed to replicate to a site, kept for an operator to see and retry (Backbeat's
 * {@code bb:crr:failed:<site>} sorted sets). {@code entry} is the replication entry as it was queued,
 * so a retry re-publishes it without reading the source again.
 */
public record FailedEntry(String site, Instant failedAt, String bucket, String objectKey, String versionId, long size,
                          String lastModified, String reason, int attempts, String entry, Instant expiresAt) {

    public boolean isExpired(Instant now) {
        return expiresAt != null && !expiresAt.isAfter(now);
    }
}
