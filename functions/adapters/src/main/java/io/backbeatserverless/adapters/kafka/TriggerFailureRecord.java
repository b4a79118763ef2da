package io.backbeatserverless.adapters.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What an MSK event source mapping writes to its S3 on-failure destination when it gives up on a batch (Lambda Developer
 * Guide, with-msk-on-failure.html): the failed invocation's metadata ({@code requestContext.condition}, such as
 * {@code RetryAttemptsExhausted}; {@code KafkaBatchInfo.recordsInfo}, per {@code <topic>-<partition>} the first and last
 * offsets of the batch) and, in {@code payload}, the whole invocation record as an escaped JSON string: the Kafka event
 * the function was given, records with their base64 keys and values. Without a payload (too large to send:
 * {@code MaximumPayloadSizeExceeded}; or a destination that only gets metadata), the offsets say where the records are.
 */
public record TriggerFailureRecord(String condition, String functionArn, List<KafkaEventRecords.Record> records, List<Range> ranges) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A batch's records on one partition: offsets {@code first} to {@code last}, both included. */
    public record Range(String topic, int partition, long first, long last) {
    }

    public boolean hasPayload() {
        return !records.isEmpty();
    }

    /** @throws IllegalArgumentException naming what is missing, for a document that is not an on-failure record */
    public static TriggerFailureRecord parse(byte[] document) {
        JsonNode root;
        try {
            root = JSON.readTree(document);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject() || !root.has("KafkaBatchInfo")) {
            throw new IllegalArgumentException("not an on-failure record of a Kafka event source mapping (no KafkaBatchInfo)");
        }
        List<Range> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("KafkaBatchInfo").path("recordsInfo").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> partition = it.next();
            int dash = partition.getKey().lastIndexOf('-');
            if (dash < 0) {
                throw new IllegalArgumentException("recordsInfo key '" + partition.getKey() + "' is not <topic>-<partition>");
            }
            ranges.add(new Range(partition.getKey().substring(0, dash), Integer.parseInt(partition.getKey().substring(dash + 1)),
                    partition.getValue().path("firstRecordOffset").asLong(), partition.getValue().path("lastRecordOffset").asLong()));
        }
        List<KafkaEventRecords.Record> records = new ArrayList<>();
        JsonNode payload = root.path("payload");
        if (payload.isTextual() && !payload.asText().isBlank()) {
            try {
                payload = JSON.readTree(payload.asText());
            } catch (IOException e) {
                throw new IllegalArgumentException("payload is not the invocation's JSON: " + e.getMessage(), e);
            }
        }
        for (JsonNode group : payload.path("records")) {
            for (JsonNode record : group) {
                records.add(new KafkaEventRecords.Record(record.path("topic").asText(), record.path("partition").asInt(),
                        record.path("offset").asLong(), record.path("timestamp").asLong(),
                        record.hasNonNull("key") ? new String(Base64.getDecoder().decode(record.path("key").asText()), StandardCharsets.UTF_8) : null,
                        record.hasNonNull("value") ? Base64.getDecoder().decode(record.path("value").asText()) : new byte[0]));
            }
        }
        records.sort(Comparator.comparing(KafkaEventRecords.Record::topic).thenComparingInt(KafkaEventRecords.Record::partition)
                .thenComparingLong(KafkaEventRecords.Record::offset));
        if (records.isEmpty() && ranges.isEmpty()) {
            throw new IllegalArgumentException("the record names no records and no offsets");
        }
        return new TriggerFailureRecord(root.path("requestContext").path("condition").asText(null),
                root.path("requestContext").path("functionArn").asText(null), List.copyOf(records), List.copyOf(ranges));
    }
}
