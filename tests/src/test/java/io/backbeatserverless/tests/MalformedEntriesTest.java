package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.core.entry.MessageKeys;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A record no replicator can read becomes a visible failed entry with its reason; its partition goes on. */
class MalformedEntriesTest extends StackScenario {


    @Test
    void aMalformedEntryIsKeptAsAFailedEntryAndTheObjectsAfterItStillReplicate() throws Exception {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        String key = MessageKeys.forObject(bucket, "after-garbage");
        try (EntryPublisher publisher = EntryPublisher.connect(stack.config.kafka().bootstrapServers(), "malformed-test")) {
            // Same message key as the object put next: same partition, before it.
            publisher.publishAll(List.of(new ProducerRecord<>(stack.config.kafka().replicationTopic(), key,
                    "{\"type\":\"put\",\"bucket\":\"x\",\"key\":\"no-version-separator\",\"value\":\"{}\"}".getBytes(StandardCharsets.UTF_8))));
        }
        String version = stack.source.putObject(r -> r.bucket(bucket).key("after-garbage"), RequestBody.fromString("fine")).versionId();

        stack.awaitReplica(bucket + "/after-garbage", version);
        JsonNode failed = await().atMost(Duration.ofSeconds(10)).until(() -> stack.api(200, "GET", "/_/crr/failed",
                Map.of("sitename", SharedStack.AWS_LOCATION), null), f -> f.path("Versions").findValuesAsText("Bucket").contains("(malformed)"));
        JsonNode entry = null;
        for (JsonNode v : failed.path("Versions")) {
            if (v.path("Bucket").asText().equals("(malformed)") && v.path("Reason").asText().contains("no-version-separator")) {
                entry = v;
            }
        }
        assertThat(entry).as("the malformed record is listed").isNotNull();
        assertThat(entry.path("Key").asText()).startsWith("backbeat-replication-").contains("@");
        assertThat(entry.path("Reason").asText()).contains("not a version key");

        String retry = "[{\"Bucket\":\"(malformed)\",\"Key\":\"" + entry.path("Key").asText() + "\",\"VersionId\":\"-\",\"StorageClass\":\"aws-location\"}]";
        assertThat(stack.api(400, "POST", "/_/crr/failed", Map.of(), retry).path("message").asText()).contains("cannot be retried");
    }
}
