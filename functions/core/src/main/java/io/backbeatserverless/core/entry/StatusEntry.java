package io.backbeatserverless.core.entry;

import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;

import java.util.Objects;

/**
 * The outcome of replicating one version to one site, published by the replicator on
 * {@code backbeat-replication-status} for the status processor. Like Backbeat's, it carries the
 * version's metadata with this site's status set; it adds what an operator needs to trust it.
 *
 * @param reason     why it failed (null unless FAILED)
 * @param attempts   how many tries the replicator made
 * @param bytes      bytes copied to the site (0 for metadata-only changes and delete markers)
 * @param durationMs time spent replicating
 * @param timestamp  ISO-8601 instant the outcome was decided
 * @param retryable  a FAILED outcome's cause is transient (throttling, 5xx, timeouts, connection errors: {@code
 *                   ReplicationErrors}), so it is retried on its own (issue 31); false for a permanent one
 * @param autoRetries the automatic retries that queued the version so far (its entry's {@code autoRetries})
 */
public record StatusEntry(String bucket, VersionKey versionKey, String site, ReplicationStatus status,
                          String reason, ObjectMetadata metadata, int attempts, long bytes, long durationMs,
                          String timestamp, boolean retryable, int autoRetries) {

    public StatusEntry(String bucket, VersionKey versionKey, String site, ReplicationStatus status, String reason, ObjectMetadata metadata,
                       int attempts, long bytes, long durationMs, String timestamp) {
        this(bucket, versionKey, site, status, reason, metadata, attempts, bytes, durationMs, timestamp, false, 0);
    }

    public StatusEntry {
        Objects.requireNonNull(versionKey, "versionKey");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(metadata, "metadata");
        if (bucket == null || bucket.isEmpty()) {
            throw new MalformedEntryException("status entry for '" + versionKey.objectKey() + "' has no bucket");
        }
        if (site == null || site.isEmpty()) {
            throw new MalformedEntryException("status entry for '" + bucket + "/" + versionKey.objectKey() + "' has no site");
        }
    }

    public String messageKey() {
        return MessageKeys.forObject(bucket, versionKey.objectKey());
    }

    /**
     * From the version's write at the source (its last-modified time) to this outcome ({@code timestamp}): S3's
     * {@code ReplicationLatency} for a completion; null when either time is missing or unreadable. Never negative (the
     * source's clock and the replicator's may differ by a little).
     */
    public java.time.Duration replicationTime() {
        java.time.Instant written = io.backbeatserverless.core.metadata.Timestamps.parseOrNull(metadata.lastModified());
        java.time.Instant reported = io.backbeatserverless.core.metadata.Timestamps.parseOrNull(timestamp);
        if (written == null || reported == null) {
            return null;
        }
        java.time.Duration took = java.time.Duration.between(written, reported);
        return took.isNegative() ? java.time.Duration.ZERO : took;
    }
}
