package io.backbeatserverless.status.events;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.events.ReplicationEvent;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * A replication event as S3 shapes its replication event notifications (a record of {@code eventName}
 * {@code Replication:<name>}, the bucket and object, and {@code replicationEventData}), so that rules and consumers
 * written for S3's read ours: the key URL-encoded as S3 sends it, the times in ISO-8601, the threshold in minutes
 * and the replication time in seconds, as strings. Ours adds {@code destinationSite} (the site's name, where S3 has
 * a destination bucket ARN), and {@code failureReason} is our reason in words (S3 sends a code).
 */
public final class S3ReplicationEventRecord {

    /** The EventBridge source of our events ({@code aws.*} is reserved to AWS services). */
    public static final String SOURCE = "backbeat-serverless";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private S3ReplicationEventRecord() {
    }

    public static ObjectNode of(ReplicationEvent event) {
        ObjectNode record = MAPPER.createObjectNode();
        record.put("eventVersion", "2.2");
        record.put("eventSource", SOURCE);
        record.put("eventTime", event.eventTime().toString());
        record.put("eventName", "Replication:" + event.name());
        ObjectNode s3 = record.putObject("s3");
        s3.put("s3SchemaVersion", "1.0");
        s3.putObject("bucket").put("name", event.bucket()).put("arn", "arn:aws:s3:::" + event.bucket());
        s3.putObject("object").put("key", URLEncoder.encode(event.objectKey(), StandardCharsets.UTF_8))
                .put("size", event.size()).put("versionId", event.versionId());
        ObjectNode data = record.putObject("replicationEventData");
        data.put("destinationSite", event.site());
        data.put("s3Operation", event.deleteMarker() ? "OBJECT_DELETE" : "OBJECT_PUT");
        if (event.sourceWrittenAt() != null) {
            data.put("requestTime", event.sourceWrittenAt());
        }
        if (event.failureReason() != null) {
            data.put("failureReason", event.failureReason());
        }
        if (event.name() != ReplicationEvent.Name.OperationFailedReplication) {
            data.put("threshold", Long.toString(event.threshold().toMinutes()));
        }
        if (event.name() == ReplicationEvent.Name.OperationReplicatedAfterThreshold && event.replicationTime() != null) {
            data.put("replicationTime", Long.toString(event.replicationTime().toSeconds()));
        }
        return record;
    }
}
