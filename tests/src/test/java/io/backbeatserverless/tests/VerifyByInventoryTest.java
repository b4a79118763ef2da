package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import io.backbeatserverless.localstack.InventoryReportWriter;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Verify of a bucket by its S3 Inventory reports (issue 29). The shared stack's configuration checks any bucket of one
 * version or more by its reports when its source has one ({@code ops.verifyInventory}, {@link SharedStack}); this test
 * writes the source bucket's report and the site bucket's, as S3 delivers them ({@link InventoryReportWriter}), rows
 * shuffled across several data files, keys URL-encoded.
 */
class VerifyByInventoryTest extends StackScenario {

    @Test
    void aBucketIsComparedReportAgainstReportAndOnlyTheKeysTheReportsCannotDecideAreReadLive() {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        List<String> keys = new ArrayList<>(List.of("with space", "a+plus", "caf\u00e9"));
        for (int i = 0; i < 20; i++) {
            keys.add("n/" + i);
        }
        long entries = 0;
        for (String key : keys) {
            String version = put(bucket, key, "first bytes of " + key);
            entries++;
            if (key.endsWith("/1") || key.endsWith("/2")) {
                version = put(bucket, key, "second bytes of " + key);
                entries++;
            }
            stack.awaitReplica(bucket + "/" + key, version);
        }
        stack.source.deleteObject(r -> r.bucket(bucket).key("n/9"));
        entries++;
        await().atMost(Duration.ofSeconds(60)).until(() -> stack.destination.listObjectVersions(r -> r.bucket("dest-bucket")
                .prefix(bucket + "/n/9")).deleteMarkers().stream().anyMatch(m -> m.isLatest()));

        // Before the reports: one replica lost, one overwritten at the site. The reports show both.
        String lost = stack.headReplica(bucket + "/n/3").orElseThrow().versionId();
        stack.destination.deleteObject(r -> r.bucket("dest-bucket").key(bucket + "/n/3").versionId(lost));
        stack.destination.putObject(r -> r.bucket("dest-bucket").key(bucket + "/n/4"), RequestBody.fromString("other bytes"));

        createBucket(stack.source, "inventory-reports");
        createBucket(stack.destination, "inventory-reports");
        Instant at = Instant.now();
        InventoryReportWriter.write(stack.source, bucket, stack.source, "inventory-reports", "inventories", "backbeat", 3, at);
        InventoryReportWriter.write(stack.destination, "dest-bucket", stack.destination, "inventory-reports", "inventories", "backbeat", 2, at);

        // After the reports: another replica lost. The reports still show it there: a key the two reports agree on is
        // identical without a request (the next reports will show it).
        String lostLater = stack.headReplica(bucket + "/n/5").orElseThrow().versionId();
        stack.destination.deleteObject(r -> r.bucket("dest-bucket").key(bucket + "/n/5").versionId(lostLater));

        JsonNode run = VerifyTest.verify(bucket, false);
        assertThat(run.path("ByInventory")).as("%s", run).extracting(JsonNode::asText).containsExactly(bucket);
        assertThat(VerifyTest.findings(run)).extracting(f -> f.path("Key").asText() + " " + f.path("Kind").asText())
                .as("%s", run).containsExactlyInAnyOrder("n/3 MISSING", "n/4 DIVERGENT");
        JsonNode site = run.path("Sites").path(SharedStack.AWS_LOCATION);
        assertThat(site.path("Expected").asLong()).as("%s", run).isEqualTo(entries);
        assertThat(site.path("Missing").asLong()).isEqualTo(1);
        assertThat(site.path("Identical").asLong()).as("%s", run).isEqualTo(entries - 2);
        // Its shards are removed as they are compared.
        assertThat(stack.source.listObjectsV2(r -> r.bucket("inventory-reports").prefix("inventories/backbeat-verify/")).contents())
                .as("shards left behind").isEmpty();
    }

    private static String put(String bucket, String key, String body) {
        return stack.source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString(body)).versionId();
    }

    private static void createBucket(S3Client s3, String bucket) {
        try {
            s3.createBucket(r -> r.bucket(bucket));
        } catch (S3Exception exists) {
            if (exists.statusCode() != 409) {
                throw exists;
            }
        }
    }
}
