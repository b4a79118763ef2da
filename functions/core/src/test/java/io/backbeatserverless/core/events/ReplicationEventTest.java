package io.backbeatserverless.core.events;

import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** Which outcome raises which of S3's replication events. */
class ReplicationEventTest {

    private static final Duration THRESHOLD = Duration.ofMinutes(15);
    private static final Instant WRITTEN = Instant.parse("2026-11-28T10:00:00Z");
    private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");

    @Test
    void aFailureRaisesOperationFailedReplicationWithItsReason() {
        var events = ReplicationEvent.of(outcome(ReplicationStatus.FAILED, "NoSuchBucket (HTTP 404): gone", Duration.ofSeconds(3)), THRESHOLD, NOW);

        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.name()).isEqualTo(ReplicationEvent.Name.OperationFailedReplication);
            assertThat(e.failureReason()).isEqualTo("NoSuchBucket (HTTP 404): gone");
            assertThat(e.site()).isEqualTo("aws-location");
            assertThat(e.eventTime()).isEqualTo(WRITTEN.plusSeconds(3));
        });
    }

    @Test
    void aCompletionPastTheThresholdRaisesBothThresholdEventsWithTheReplicationTime() {
        var events = ReplicationEvent.of(outcome(ReplicationStatus.COMPLETED, null, Duration.ofMinutes(16)), THRESHOLD, NOW);

        assertThat(events).extracting(ReplicationEvent::name).containsExactly(ReplicationEvent.Name.OperationMissedThreshold,
                ReplicationEvent.Name.OperationReplicatedAfterThreshold);
        assertThat(events).allSatisfy(e -> assertThat(e.replicationTime()).isEqualTo(Duration.ofMinutes(16)));
    }

    @Test
    void inTimeCompletionsSkipsAndRetriesRaiseNothing() {
        assertThat(ReplicationEvent.of(outcome(ReplicationStatus.COMPLETED, null, Duration.ofMinutes(15)), THRESHOLD, NOW)).isEmpty();
        assertThat(ReplicationEvent.of(outcome(ReplicationStatus.SKIPPED, "superseded", Duration.ofHours(1)), THRESHOLD, NOW)).isEmpty();
        assertThat(ReplicationEvent.of(outcome(ReplicationStatus.PENDING, null, Duration.ofHours(1)), THRESHOLD, NOW)).isEmpty();
    }

    private static StatusEntry outcome(ReplicationStatus status, String reason, Duration after) {
        ObjectMetadata metadata = ObjectMetadata.builder("photos/cat 1.jpg", "v1").contentLength(42).lastModified(WRITTEN.toString()).build();
        return new StatusEntry("bucket", new VersionKey("photos/cat 1.jpg", "v1"), "aws-location", status, reason, metadata, 1, 42, 10,
                WRITTEN.plus(after).toString());
    }
}
