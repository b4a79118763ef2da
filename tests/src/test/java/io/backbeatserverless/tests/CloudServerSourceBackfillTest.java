package io.backbeatserverless.tests;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.adapters.cloudserver.CloudServerBackbeatRoutes;
import io.backbeatserverless.adapters.cloudserver.CloudServerSourceStatusWriter;
import io.backbeatserverless.adapters.config.Endpoint;
import io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbFailedEntryStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.core.backfill.BackfillPage;
import io.backbeatserverless.core.backfill.PageOutcome;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.events.ReplicationEvents;
import io.backbeatserverless.core.metadata.CloudServerVersionIds;
import io.backbeatserverless.core.metadata.PendingVersions;
import io.backbeatserverless.core.ops.ReplicationMetrics;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.versions.ListedVersion;
import io.backbeatserverless.status.StatusRecorder;
import io.backbeatserverless.verifier.RepairEntries;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Backfill of a CloudServer source (issue 29): the versions a bucket held before it had a replication rule, which is what a
 * backfill is for, have no replication status of their own in CloudServer's metadata (ObjectMD's empty replicationInfo).
 * Their status is written back as the per-version path writes it, with the rule's replicationInfo; a page done at a site
 * tells the source of each version it completed there. Against a server that answers CloudServer's backbeat routes with
 * the metadata CloudServer keeps (shared/reference's recorded document; before a rule, ObjectMD's defaults), the job store
 * and status table on dynalite.
 */
class CloudServerSourceBackfillTest extends StackScenario {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String SITE = "aws-location";
    /** What CloudServer's ObjectMD holds in replicationInfo for a version put while its bucket had no replication rule. */
    private static final String NO_REPLICATION = """
            {"status":"","backends":[],"content":[],"destination":"","storageClass":"","role":"","storageType":"",
             "dataStoreVersionId":"","isNFS":null}""";
    private static final String RULES = """
            {"Role":"arn:aws:iam::root:role/s3-replication-role,arn:aws:iam::root:role/s3-replication-role",
             "Rules":[{"ID":"all","Status":"Enabled","Prefix":"","Destination":{"Bucket":"arn:aws:s3:::dest-bucket","StorageClass":"aws-location"}}]}""";

    private static CloudServerLikeServer cloudServer;
    private static final List<CloudServerLikeServer.Request> requests = new CopyOnWriteArrayList<>();
    private static final java.util.concurrent.atomic.AtomicBoolean refusedOnce = new java.util.concurrent.atomic.AtomicBoolean();

    @BeforeAll
    static void start() throws Exception {
        String recorded = Files.readString(Path.of("../functions/core/src/test/resources/cloudserver-object-metadata.json"));
        cloudServer = new CloudServerLikeServer(request -> {
            requests.add(request);
            if (request.method().equals("PUT") && request.path().contains("/c-refused-once") && refusedOnce.compareAndSet(false, true)) {
                return new CloudServerLikeServer.Answer(500, "{\"code\":\"InternalError\",\"message\":\"try again\"}"
                        .getBytes(StandardCharsets.UTF_8));
            }
            if (request.method().equals("GET")) {
                ObjectNode document = (ObjectNode) MAPPER.readTree(recorded);
                document.set("replicationInfo", MAPPER.readTree(NO_REPLICATION));
                return new CloudServerLikeServer.Answer(200, MAPPER.writeValueAsBytes(Map.of("Body", document.toString())));
            }
            return new CloudServerLikeServer.Answer(200, "{}".getBytes(StandardCharsets.UTF_8));
        });
    }

    @AfterAll
    static void stop() throws Exception {
        cloudServer.close();
    }

    /**
     * Before: "object 'obj1' has no replicationInfo", thrown by the status processor on every delivery of the batch, so a
     * version verify --repair had queued from a CloudServer source stalled its partition of the status topic.
     */
    @Test
    void aVersionStoredBeforeItsBucketHadRulesIsToldItsStatusWithItsRulesReplicationInfo() throws Exception {
        String bucket = "csb-one-" + UUID.randomUUID().toString().substring(0, 8);
        String internal = "98204407893972999999RG001  1";
        ReplicationConfiguration rules = ReplicationConfigurationParser.parse(RULES);
        StatusEntry outcome = new StatusEntry(bucket, new VersionKey("before-rules", internal), SITE, ReplicationStatus.COMPLETED, null,
                PendingVersions.metadataOf("before-rules", internal, 12, "\"8a8933dab8deebe52e30886da1ef6ee2\"", Instant.now(), false, rules,
                        rules.rules().getFirst(), Map.of()).onlySite(SITE), 1, 12, 5, Instant.now().toString());

        try (Recording recording = new Recording()) {
            recording.recorder.record(statusBatch(EntryCodec.encode(outcome), outcome.messageKey()));
        }

        List<CloudServerLikeServer.Request> mine = requestsFor(bucket);
        assertThat(mine).extracting(CloudServerLikeServer.Request::method).containsExactly("GET", "PUT");
        JsonNode written = MAPPER.readTree(mine.get(1).body());
        assertThat(written.at("/replicationInfo/status").asText()).isEqualTo("COMPLETED");
        assertThat(written.at("/replicationInfo/backends/0/site").asText()).isEqualTo(SITE);
        assertThat(written.at("/replicationInfo/backends/0/status").asText()).isEqualTo("COMPLETED");
        assertThat(written.at("/replicationInfo/destination").asText()).isEqualTo("arn:aws:s3:::dest-bucket");
        assertThat(written.at("/replicationInfo/content").toString()).isEqualTo("[\"DATA\",\"METADATA\"]");
        assertThat(written.at("/replicationInfo/isNFS").isNull()).as("CloudServer's own fields stay").isTrue();
    }

    /**
     * A page done at a site: each version it completed there is written back COMPLETED (GET and PUT of its metadata, by its
     * external id), the one it failed is not (its own FAILED outcome tells the source). A write that fails fails the batch,
     * which is delivered again and tells the page's versions again; once told, a page is not told again. Before: a job's page
     * told the source nothing, so jobs were refused on a CloudServer source.
     */
    @Test
    void aPageDoneAtASiteWritesBackEachVersionItCompletedThereOnce() throws Exception {
        String bucket = "csb-page-" + UUID.randomUUID().toString().substring(0, 8);
        ReplicationConfiguration rules = ReplicationConfigurationParser.parse(RULES);
        List<BackfillPage.PageVersion> versions = List.of(
                version("a", "98204407893972999999RG001  2"), version("b", "98204407893972999999RG001  3"),
                version("c-refused-once", "98204407893972999999RG001  4"));
        BackfillPage page = new BackfillPage("job-" + bucket, 1, 0, bucket, null, null, "c-refused-once", List.of(SITE),
                ReplicationConfigurationParser.toJson(rules), versions, Instant.now().toString());
        DynamoDbBackfillJobStore jobs = new DynamoDbBackfillJobStore(stack.dynamo, stack.config.dynamodb().tables().status());
        jobs.savePage(page);
        PageOutcome outcome = new PageOutcome(page.jobId(), 1, 0, bucket, "c-refused-once", SITE, 2, 24, 1, 0,
                List.of(versions.get(1).ref()), List.of(), Instant.now().toString());
        KafkaEvent batch = statusBatch(EntryCodec.encode(outcome), outcome.messageKey());

        try (Recording recording = new Recording()) {
            assertThatThrownBy(() -> recording.recorder.record(batch)).hasMessageContaining("c-refused-once");
            requests.removeIf(r -> r.path().startsWith("/_/backbeat/metadata/" + bucket + "/"));

            recording.recorder.record(batch); // the event source delivers the batch again
            List<CloudServerLikeServer.Request> mine = requestsFor(bucket);
            assertThat(mine).extracting(r -> r.method() + " " + r.path() + "?" + r.query()).containsExactlyInAnyOrder(
                    "GET /_/backbeat/metadata/" + bucket + "/a?versionId=" + CloudServerVersionIds.toExternal(versions.get(0).versionId()),
                    "PUT /_/backbeat/metadata/" + bucket + "/a?versionId=" + CloudServerVersionIds.toExternal(versions.get(0).versionId()),
                    "GET /_/backbeat/metadata/" + bucket + "/c-refused-once?versionId=" + CloudServerVersionIds.toExternal(versions.get(2).versionId()),
                    "PUT /_/backbeat/metadata/" + bucket + "/c-refused-once?versionId=" + CloudServerVersionIds.toExternal(versions.get(2).versionId()));
            assertThat(mine).filteredOn(r -> r.method().equals("PUT")).allSatisfy(put -> {
                JsonNode written = MAPPER.readTree(put.body());
                assertThat(written.at("/replicationInfo/status").asText()).isEqualTo("COMPLETED");
                assertThat(written.at("/replicationInfo/backends/0/status").asText()).isEqualTo("COMPLETED");
                assertThat(put.header("x-scal-replication-content")).isEqualTo("METADATA");
            });

            requests.removeIf(r -> r.path().startsWith("/_/backbeat/metadata/" + bucket + "/"));
            recording.recorder.record(batch);
            assertThat(requestsFor(bucket)).as("told once: delivered again, the page is not told again").isEmpty();
        }
    }

    /** Before: verify --repair could not queue such a version ("has no replicationInfo"), so it was never replicated. */
    @Test
    void verifyRepairQueuesAVersionStoredBeforeItsBucketHadRules() {
        String bucket = "csb-repair-" + UUID.randomUUID().toString().substring(0, 8);
        ReplicationConfiguration rules = ReplicationConfigurationParser.parse(RULES);
        String external = CloudServerVersionIds.toExternal("98204407893972999999RG001  5");
        try (CloudServerBackbeatRoutes routes = new CloudServerBackbeatRoutes(endpoint(), 2)) {
            ReplicationEntry entry = RepairEntries.fromCloudServer(routes).entry(bucket,
                    new ListedVersion("before-rules", external, false, Instant.now(), true, 12, "\"8a8933dab8deebe52e30886da1ef6ee2\""),
                    rules, rules.rules().getFirst(), Map.of(), SITE, false, false);

            assertThat(entry.versionId()).isEqualTo("98204407893972999999RG001  5");
            var info = entry.metadata().replicationInfo().orElseThrow();
            assertThat(info.status()).isEqualTo(ReplicationStatus.PENDING);
            assertThat(info.sites()).containsExactly(SITE);
            assertThat(info.destination()).isEqualTo("arn:aws:s3:::dest-bucket");
        }
    }

    private static BackfillPage.PageVersion version(String key, String internalVersionId) {
        return new BackfillPage.PageVersion(key, internalVersionId, 12, "\"8a8933dab8deebe52e30886da1ef6ee2\"", Instant.now().toString(),
                false, 0, Map.of());
    }

    private static List<CloudServerLikeServer.Request> requestsFor(String bucket) {
        return requests.stream().filter(r -> r.path().startsWith("/_/backbeat/metadata/" + bucket + "/")).toList();
    }

    private static Endpoint endpoint() {
        return stack.config.source().endpoint().withPort(cloudServer.port());
    }

    /** A status processor as deployed for a CloudServer source: write-back through the routes, backfill jobs on the status table. */
    private static final class Recording implements AutoCloseable {
        final CloudServerBackbeatRoutes routes = new CloudServerBackbeatRoutes(endpoint(), 8);
        final StatusRecorder recorder;

        Recording() {
            var tables = stack.config.dynamodb().tables();
            recorder = new StatusRecorder(new DynamoDbReplicationStatusStore(stack.dynamo, tables.status(), Clock.systemUTC()),
                    new DynamoDbFailedEntryStore(stack.dynamo, tables.failedEntries()), new DynamoDbMetricsStore(stack.dynamo, tables.metrics()),
                    new CloudServerSourceStatusWriter(routes), Duration.ofHours(24), Clock.systemUTC(), () -> {
            }, ReplicationEvents.NONE, Duration.ofMinutes(15), ReplicationMetrics.NONE,
                    new DynamoDbBackfillJobStore(stack.dynamo, tables.status()));
        }

        @Override
        public void close() throws Exception {
            recorder.close();
            routes.close();
        }
    }

    private static long offset = 0;

    private static KafkaEvent statusBatch(byte[] value, String messageKey) {
        KafkaEvent event = new KafkaEvent();
        event.setRecords(Map.of("backbeat-replication-status-0", List.of(KafkaEvent.KafkaEventRecord.builder()
                .withTopic("backbeat-replication-status").withPartition(0).withOffset(System.nanoTime() + offset++)
                .withKey(Base64.getEncoder().encodeToString(messageKey.getBytes(StandardCharsets.UTF_8)))
                .withValue(Base64.getEncoder().encodeToString(value)).build())));
        return event;
    }
}
