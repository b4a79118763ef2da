package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbCheckpointStore;
import io.backbeatserverless.adapters.dynamodb.TableSchemas;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbRuleStore;
import io.backbeatserverless.adapters.aws.BucketRules;
import io.backbeatserverless.populator.ChangeFeed;
import io.backbeatserverless.populator.ListingChangeFeed;
import io.backbeatserverless.populator.SourceVersion;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rule store for sources whose buckets cannot hold a Backbeat-style configuration (AWS S3): set
 * through the ops API with the same JSON, checked field by field, and read by the populator.
 */
class RuleStoreTest extends StackScenario {

    private static final String RULES = """
            {"Role":"arn:aws:iam::root:role/s3-replication-role","Rules":[{"ID":"logs","Status":"Enabled","Priority":1,
             "Filter":{"Prefix":"logs/"},"Destination":{"Bucket":"arn:aws:s3:::dest","StorageClass":"aws-location"}}]}""";

    @Test
    void rulesAreStoredCheckedListedAndRemovedThroughTheApi() {
        String bucket = "aws-source-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(stack.api(200, "PUT", "/_/rules/" + bucket, Map.of(), RULES).isEmpty()).isTrue();
        assertThat(stack.api("GET", "/_/rules/" + bucket).at("/Rules/0/ID").asText()).isEqualTo("logs");
        assertThat(stack.api("GET", "/_/rules").has(bucket)).isTrue();

        JsonNode unknownSite = stack.api(400, "PUT", "/_/rules/" + bucket, Map.of(), RULES.replace("aws-location", "mars"));
        assertThat(unknownSite.path("code").asText()).isEqualTo("MalformedPOSTRequest");
        assertThat(unknownSite.path("message").asText()).contains("Rules[0].Destination.StorageClass names unknown site 'mars'");
        assertThat(stack.api(400, "PUT", "/_/rules/" + bucket, Map.of(), RULES.replace("\"Enabled\"", "\"On\"")).path("message").asText())
                .contains("Rules[0].Status must be Enabled or Disabled");
        assertThat(stack.api("GET", "/_/rules/" + bucket).at("/Rules/0/Destination/StorageClass").asText())
                .as("an invalid document never replaces a valid one").isEqualTo("aws-location");

        stack.api(200, "DELETE", "/_/rules/" + bucket, Map.of(), null);
        assertThat(stack.api(404, "GET", "/_/rules/" + bucket, Map.of(), null).path("code").asText()).isEqualTo("RouteNotFound");
    }

    @Test
    void thePopulatorTakesABucketsRulesFromTheStore() throws Exception {
        String bucket = stack.newVersionedBucket("store-src");
        String logs = stack.source.putObject(r -> r.bucket(bucket).key("logs/a"), RequestBody.fromString("a")).versionId();
        stack.source.putObject(r -> r.bucket(bucket).key("other/b"), RequestBody.fromString("b"));
        stack.api(200, "PUT", "/_/rules/" + bucket, Map.of(), RULES);

        var tables = stack.config.dynamodb().tables();
        // This feed records what it queues in a status table of its own, so the stack's populator is not told to skip anything.
        String ownStatusTable = "rule-store-test-status-" + UUID.randomUUID().toString().substring(0, 8);
        TableSchemas.createMissing(stack.dynamo, new BackbeatConfig.TableNames(ownStatusTable, "rst-failed-" + ownStatusTable,
                "rst-state-" + ownStatusTable, "rst-checkpoints-" + ownStatusTable, "rst-metrics-" + ownStatusTable, "rst-rules-" + ownStatusTable),
                Duration.ofSeconds(30));
        ListingChangeFeed feed = new ListingChangeFeed(stack.source,
                new DynamoDbReplicationStatusStore(stack.dynamo, ownStatusTable, Clock.systemUTC()),
                BucketRules.fromStore(new DynamoDbRuleStore(stack.dynamo, tables.rules()), stack.config.siteNames()),
                new DynamoDbCheckpointStore(stack.dynamo, tables.checkpoints(), Clock.systemUTC()), "rule-store-test-" + bucket,
                1000, Duration.ofHours(1), Clock.systemUTC());
        List<SourceVersion> found = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            ChangeFeed.Batch batch = feed.next();
            if (batch.position() == null) {
                break;
            }
            batch.versions().stream().filter(v -> v.bucket().equals(bucket)).forEach(found::add);
            feed.acknowledge(batch);
            if (feed.cursor().done()) {
                break;
            }
        }
        assertThat(found).extracting(v -> v.metadata().objectKey()).containsExactly("logs/a");
        assertThat(found.getFirst().metadata().versionId()).isEqualTo(logs);
        assertThat(found.getFirst().metadata().replicationInfo().orElseThrow().sites()).containsExactly("aws-location");
        stack.api(200, "DELETE", "/_/rules/" + bucket, Map.of(), null);
    }

}
