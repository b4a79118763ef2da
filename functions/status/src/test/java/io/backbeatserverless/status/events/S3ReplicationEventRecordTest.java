package io.backbeatserverless.status.events;

import com.fasterxml.jackson.databind.JsonNode;
import io.backbeatserverless.core.events.ReplicationEvent;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** Our replication events read as S3's replication event notifications do. */
class S3ReplicationEventRecordTest {

    @Test
    void aFailureIsShapedAsS3sOperationFailedReplication() {
        JsonNode record = S3ReplicationEventRecord.of(new ReplicationEvent(ReplicationEvent.Name.OperationFailedReplication, "aws-location",
                "photos", "2026/cat 1.jpg", "v1", 42, false, "2026-11-28T10:00:00Z", Instant.parse("2026-11-28T10:00:03Z"),
                "NoSuchBucket (HTTP 404): gone", Duration.ofMinutes(15), Duration.ofSeconds(3)));

        assertThat(record.path("eventName").asText()).isEqualTo("Replication:OperationFailedReplication");
        assertThat(record.path("eventTime").asText()).isEqualTo("2026-11-28T10:00:03Z");
        assertThat(record.path("s3").path("bucket").path("arn").asText()).isEqualTo("arn:aws:s3:::photos");
        assertThat(record.path("s3").path("object").path("key").asText()).as("URL-encoded, as S3 sends keys").isEqualTo("2026%2Fcat+1.jpg");
        assertThat(record.path("s3").path("object").path("versionId").asText()).isEqualTo("v1");
        JsonNode data = record.path("replicationEventData");
        assertThat(data.path("s3Operation").asText()).isEqualTo("OBJECT_PUT");
        assertThat(data.path("requestTime").asText()).isEqualTo("2026-11-28T10:00:00Z");
        assertThat(data.path("failureReason").asText()).isEqualTo("NoSuchBucket (HTTP 404): gone");
        assertThat(data.path("destinationSite").asText()).isEqualTo("aws-location");
        assertThat(data.has("threshold")).isFalse();
    }

    @Test
    void aLateReplicationSaysTheThresholdAndTheTimeItTook() {
        JsonNode data = S3ReplicationEventRecord.of(new ReplicationEvent(ReplicationEvent.Name.OperationReplicatedAfterThreshold, "second",
                "photos", "k", "v2", 0, true, "2026-11-28T10:00:00Z", Instant.parse("2026-11-28T10:20:00Z"), null,
                Duration.ofMinutes(15), Duration.ofMinutes(20))).path("replicationEventData");

        assertThat(data.path("threshold").asText()).isEqualTo("15");
        assertThat(data.path("replicationTime").asText()).isEqualTo("1200");
        assertThat(data.path("s3Operation").asText()).isEqualTo("OBJECT_DELETE");
        assertThat(data.has("failureReason")).isFalse();
    }
}
