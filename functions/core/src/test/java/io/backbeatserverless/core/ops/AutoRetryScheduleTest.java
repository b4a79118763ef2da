package io.backbeatserverless.core.ops;

import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AutoRetryScheduleTest {

    private static final Instant FAILED_AT = Instant.parse("2026-12-07T10:00:00Z");

    @Test
    void eachRetryWaitsItsDelayFromTheFailureUntilTheDelaysRunOut() {
        AutoRetrySchedule schedule = AutoRetrySchedule.DEFAULT;
        assertThat(schedule.next(FAILED_AT, 0)).isEqualTo(FAILED_AT.plusSeconds(60));
        assertThat(schedule.next(FAILED_AT, 1)).isEqualTo(FAILED_AT.plusSeconds(300));
        assertThat(schedule.next(FAILED_AT, 4)).isEqualTo(FAILED_AT.plusSeconds(12 * 3600));
        assertThat(schedule.next(FAILED_AT, 5)).as("its budget ended: an operator's now").isNull();
        assertThat(AutoRetrySchedule.NEVER.next(FAILED_AT, 0)).isNull();
        assertThatThrownBy(() -> AutoRetrySchedule.ofSeconds(List.of(60L, 0L))).hasMessageContaining("positive");
    }

    /** The retry's number travels with the entry to the replicator and back with its outcome, for the next one's time. */
    @Test
    void theRetrysNumberAndTheFailuresClassSurviveTheTopics() {
        ObjectMetadata metadata = ObjectMetadata.builder("k", "v1").contentLength(3).lastModified(FAILED_AT.toString()).build();
        ReplicationEntry entry = new ReplicationEntry("put", "b", new VersionKey("k", "v1"), metadata, null).withAutoRetries(2);
        assertThat(EntryCodec.decodeReplicationEntry(EntryCodec.encode(entry)).autoRetries()).isEqualTo(2);
        assertThat(EntryCodec.decodeReplicationEntry(EntryCodec.encode(entry.withAutoRetries(0))).autoRetries()).isZero();

        StatusEntry failed = new StatusEntry("b", new VersionKey("k", "v1"), "site", ReplicationStatus.FAILED, "gave up", metadata, 5, 0, 10,
                FAILED_AT.toString(), true, 2);
        StatusEntry decoded = EntryCodec.decodeStatusEntry(EntryCodec.encode(failed));
        assertThat(decoded.retryable()).isTrue();
        assertThat(decoded.autoRetries()).isEqualTo(2);
        StatusEntry permanent = new StatusEntry("b", new VersionKey("k", "v1"), "site", ReplicationStatus.FAILED, "NoSuchBucket", metadata, 1, 0,
                10, FAILED_AT.toString());
        assertThat(EntryCodec.decodeStatusEntry(EntryCodec.encode(permanent)).retryable()).isFalse();
    }
}
