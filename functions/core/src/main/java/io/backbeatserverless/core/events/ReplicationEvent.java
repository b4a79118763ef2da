package io.backbeatserverless.core.events;

import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.metadata.Timestamps;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A replication event, as S3 Replication names them: a version failed at a site, or was replicated later than the
 * replication time threshold after it was written (S3 RTC's 15 minutes by default). One per outcome that changed a
 * site's status: {@link #of} is the rule.
 *
 * @param sourceWrittenAt the version's last-modified time at the source ({@code requestTime} in S3's event)
 * @param replicationTime from the source write to the outcome, when both times are known
 */
public record ReplicationEvent(Name name, String site, String bucket, String objectKey, String versionId, long size,
                               boolean deleteMarker, String sourceWrittenAt, Instant eventTime, String failureReason,
                               Duration threshold, Duration replicationTime) {

    /** S3's replication event names (its notifications prefix them with {@code Replication:}). */
    public enum Name {
        OperationFailedReplication, OperationMissedThreshold, OperationReplicatedAfterThreshold
    }

    /**
     * The events one outcome raises: a FAILED, {@code OperationFailedReplication} with its reason; a COMPLETED later
     * than {@code threshold} after the source write, {@code OperationMissedThreshold} and
     * {@code OperationReplicatedAfterThreshold} (S3 sends the first when the threshold passes; here both come with the
     * outcome, since nothing watches versions still pending). Nothing else.
     */
    public static List<ReplicationEvent> of(StatusEntry outcome, Duration threshold, Instant now) {
        Instant at = Timestamps.parseOrNull(outcome.timestamp());
        Instant eventTime = at == null ? now : at;
        Duration took = outcome.replicationTime();
        List<ReplicationEvent> events = new ArrayList<>(2);
        switch (outcome.status()) {
            case FAILED -> events.add(event(Name.OperationFailedReplication, outcome, eventTime, threshold, took));
            case COMPLETED -> {
                if (took != null && took.compareTo(threshold) > 0) {
                    events.add(event(Name.OperationMissedThreshold, outcome, eventTime, threshold, took));
                    events.add(event(Name.OperationReplicatedAfterThreshold, outcome, eventTime, threshold, took));
                }
            }
            default -> {
                // SKIPPED (the version is gone or superseded) and PENDING (a retry) are not S3 replication events
            }
        }
        return events;
    }

    private static ReplicationEvent event(Name name, StatusEntry outcome, Instant eventTime, Duration threshold, Duration took) {
        return new ReplicationEvent(name, outcome.site(), outcome.bucket(), outcome.versionKey().objectKey(),
                outcome.versionKey().versionId(), outcome.metadata().contentLength(), outcome.metadata().isDeleteMarker(),
                outcome.metadata().lastModified(), eventTime, name == Name.OperationFailedReplication ? outcome.reason() : null,
                threshold, took);
    }
}
