package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.ops.OpsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Backbeat's operations end-to-end scenarios, through the ops API of the embedded stack, signed as an operator's scripts are. */
class OperationsTest extends StackScenario {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static final LogCapture LOGS = LogCapture.install();
    private static final EmfCapture EMF = EmfCapture.install();

    private static JsonNode readJson(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterEach
    void realTime() {
        SharedStack.CLOCK.reset();
    }

    /**
     * Issue 28 #5: a forced retry of a delete marker replicates a delete marker. The status table did not keep that a
     * version is a marker, so the retry rebuilt it as a PUT of the marker's version id: FAILED for good on AWS (405 on
     * reading it), SKIPPED here; the site kept the version beneath as its latest.
     */
    @Test
    void aForcedRetryOfADeleteMarkerPutsTheMarkerBackAtTheSite() throws Exception {
        String site = SharedStack.AWS_LOCATION;
        String bucket = stack.replicatedBucket(site);
        String key = "deleted-then-lost";
        String version = stack.source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString("beneath")).versionId();
        String marker = stack.source.deleteObject(r -> r.bucket(bucket).key(key)).versionId();
        stack.awaitSiteStatus(bucket, key, marker, site, ReplicationStatus.COMPLETED);
        String siteKey = bucket + "/" + key;
        // The site loses its marker (deleted there by its version id): the version beneath is its latest again.
        var siteMarker = stack.destination.listObjectVersions(r -> r.bucket("dest-bucket").prefix(siteKey)).deleteMarkers();
        assertThat(siteMarker).hasSize(1);
        stack.destination.deleteObject(r -> r.bucket("dest-bucket").key(siteKey).versionId(siteMarker.getFirst().versionId()));
        assertThat(stack.headReplica(siteKey)).hasValueSatisfying(h -> assertThat(h.metadata().get("scal-version-id")).isEqualTo(version));

        stack.api(200, "POST", "/_/crr/failed", Map.of(), "[{\"Bucket\":\"" + bucket + "\",\"Key\":\"" + key + "\",\"VersionId\":\""
                + marker + "\",\"StorageClass\":\"" + site + "\",\"ForceRetry\":true}]");

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
                assertThat(stack.destination.listObjectVersions(r -> r.bucket("dest-bucket").prefix(siteKey)).deleteMarkers())
                        .as("a marker on top at the site again").anySatisfy(m -> assertThat(m.isLatest()).isTrue()));
        assertThat(stack.awaitSiteStatus(bucket, key, marker, site, ReplicationStatus.COMPLETED).reason()).isNull();
        assertThat(stack.status(bucket, key, marker).orElseThrow().deleteMarker()).isTrue();
    }

    @Test
    void failedEntriesAreListedWithTheirReasonAndARetryReplicatesThemAll() throws Exception {
        String site = SharedStack.RETRY_LOCATION;
        stack.removeDestinationBucket("retry-bucket");
        JsonNode before = stack.api("GET", "/_/metrics/crr/" + site + "/all");
        String bucket = stack.replicatedBucket(site);
        List<String> versions = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int n = i;
            versions.add(stack.source.putObject(r -> r.bucket(bucket).key("obj-" + n), RequestBody.fromString("object " + n)).versionId());
        }

        JsonNode failed = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> stack.api(200, "GET", "/_/crr/failed", Map.of("sitename", site), null), f -> f.path("Versions").size() == 20);
        assertThat(failed.path("IsTruncated").asBoolean()).isFalse();
        for (JsonNode v : failed.path("Versions")) {
            assertThat(v.path("Bucket").asText()).isEqualTo(bucket);
            assertThat(v.path("StorageClass").asText()).isEqualTo(site);
            assertThat(v.path("Reason").asText()).contains("NoSuchBucket");
            assertThat(v.path("Size").asLong()).isPositive();
        }
        JsonNode one = stack.api(200, "GET", "/_/crr/failed/" + bucket + "/obj-3", Map.of("versionId", versions.get(3)), null);
        assertThat(one.path("Versions")).hasSize(1);
        JsonNode failedMetrics = stack.api("GET", "/_/metrics/crr/" + site + "/all");
        assertThat(count(failedMetrics, "failures") - count(before, "failures")).isEqualTo(20);
        // Issue 16: each failure raised S3's OperationFailedReplication event with its reason (the local stack logs them).
        List<JsonNode> events = await().atMost(Duration.ofSeconds(10)).until(() -> LOGS.lines().stream()
                .filter(line -> line.contains(io.backbeatserverless.status.events.LoggedReplicationEvents.PREFIX))
                .map(line -> readJson(line.substring(line.indexOf('{'))))
                .filter(e -> e.path("s3").path("bucket").path("name").asText().equals(bucket)).toList(), e -> e.size() >= 20);
        assertThat(events).hasSize(20).allSatisfy(e -> {
            assertThat(e.path("eventName").asText()).isEqualTo("Replication:OperationFailedReplication");
            assertThat(e.path("replicationEventData").path("destinationSite").asText()).isEqualTo(site);
            assertThat(e.path("replicationEventData").path("failureReason").asText()).contains("NoSuchBucket");
            assertThat(e.path("replicationEventData").path("s3Operation").asText()).isEqualTo("OBJECT_PUT");
        });
        assertThat(events.stream().map(e -> e.path("s3").path("object").path("versionId").asText()))
                .containsExactlyInAnyOrderElementsOf(versions);
        // ... and S3's OperationsFailedReplication metric counted them, in the status function's EMF lines.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(EMF.lines("BackbeatServerless").stream()
                .filter(l -> l.path("SourceBucket").asText().equals(bucket) && l.path("Site").asText().equals(site))
                .mapToLong(l -> l.path("OperationsFailedReplication").asLong()).sum()).isEqualTo(20));

        stack.createDestinationBucket("retry-bucket");
        ArrayNode retry = MAPPER.createArrayNode();
        for (JsonNode v : failed.path("Versions")) {
            retry.addObject().put("Bucket", v.path("Bucket").asText()).put("Key", v.path("Key").asText())
                    .put("VersionId", v.path("VersionId").asText()).put("StorageClass", site);
        }
        JsonNode retried = stack.api(200, "POST", "/_/crr/failed", Map.of(), MAPPER.writeValueAsString(retry));
        assertThat(retried).hasSize(20).allSatisfy(v -> assertThat(v.path("ReplicationStatus").asText()).isEqualTo("PENDING"));

        for (int i = 0; i < 20; i++) {
            stack.awaitSiteStatus(bucket, "obj-" + i, versions.get(i), site, ReplicationStatus.COMPLETED);
            assertThat(stack.head("retry-bucket", bucket + "/obj-" + i)).isPresent();
        }
        assertThat(stack.api(200, "GET", "/_/crr/failed", Map.of("sitename", site), null).path("Versions")).isEmpty();
        JsonNode after = stack.api("GET", "/_/metrics/crr/" + site + "/all");
        assertThat(count(after, "completions") - count(before, "completions")).isEqualTo(20);
        assertThat(count(after, "failures") - count(before, "failures")).isEqualTo(20);
        assertThat(count(after, "backlog")).isZero();
        // A retry of an entry that is no longer failed does nothing.
        assertThat(stack.api(200, "POST", "/_/crr/failed", Map.of(), MAPPER.writeValueAsString(retry))).isEmpty();
    }

    @Test
    void aPausedSiteReplicatesNothingAndLosesNothingUntilResumed() {
        String site = SharedStack.PAUSE_LOCATION;
        String bucket = stack.replicatedBucket(site);
        long backlogBefore = count(stack.api("GET", "/_/metrics/crr/" + site + "/backlog"), "backlog");

        assertThat(stack.api("POST", "/_/crr/pause/" + site).isEmpty()).isTrue();
        assertThat(stack.api("GET", "/_/crr/status/" + site).path(site).asText()).isEqualTo("disabled");
        String version = stack.source.putObject(r -> r.bucket(bucket).key("held"), RequestBody.fromString("held back")).versionId();

        await().during(Duration.ofSeconds(10)).atMost(Duration.ofSeconds(12)).pollInterval(Duration.ofMillis(500))
                .until(() -> stack.head("pause-bucket", bucket + "/held").isEmpty());
        assertThat(count(stack.api("GET", "/_/metrics/crr/" + site + "/backlog"), "backlog") - backlogBefore).isEqualTo(1);

        stack.api("POST", "/_/crr/resume/" + site);
        assertThat(stack.api("GET", "/_/crr/status").path(site).asText()).isEqualTo("enabled");
        stack.awaitReplica("pause-bucket", bucket + "/held", version);
        await().atMost(Duration.ofSeconds(10)).until(() -> count(stack.api("GET", "/_/metrics/crr/" + site + "/backlog"), "backlog") == backlogBefore);
    }

    @Test
    void aScheduledResumeIsShownAndFiresAtItsTime() {
        String site = SharedStack.PAUSE_LOCATION;
        String bucket = stack.replicatedBucket(site);
        stack.api("POST", "/_/crr/pause/" + site);
        Instant requested = Instant.now();
        stack.api(200, "POST", "/_/crr/resume/" + site + "/schedule", Map.of(), "{\"hours\": 2}");

        JsonNode schedule = stack.api("GET", "/_/crr/resume/" + site);
        Instant at = Instant.parse(schedule.path(site).asText());
        assertThat(at).isBetween(requested.plus(Duration.ofMinutes(119)), requested.plus(Duration.ofMinutes(121)));
        String version = stack.source.putObject(r -> r.bucket(bucket).key("scheduled"), RequestBody.fromString("later")).versionId();
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> stack.head("pause-bucket", bucket + "/scheduled").isEmpty());

        SharedStack.CLOCK.advance(Duration.ofHours(2).plusMinutes(1));

        stack.awaitReplica("pause-bucket", bucket + "/scheduled", version);
        assertThat(stack.api("GET", "/_/crr/status/" + site).path(site).asText()).isEqualTo("enabled");
        assertThat(stack.api("GET", "/_/crr/resume/" + site).path(site).asText()).isEqualTo("none");

        // A cancelled schedule never fires.
        SharedStack.CLOCK.reset();
        stack.api("POST", "/_/crr/pause/" + site);
        stack.api(200, "POST", "/_/crr/resume/" + site + "/schedule", Map.of(), "{\"hours\": 1}");
        stack.api(200, "DELETE", "/_/crr/resume/" + site + "/schedule", Map.of(), null);
        assertThat(stack.api("GET", "/_/crr/resume/" + site).path(site).asText()).isEqualTo("none");
        SharedStack.CLOCK.advance(Duration.ofHours(2));
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> stack.api("GET", "/_/crr/status/" + site).path(site).asText().equals("disabled"));
        stack.api("POST", "/_/crr/resume/" + site);
    }

    @Test
    void everyRouteButTheHealthcheckRefusesUnsignedOrBadlySignedRequests() throws Exception {
        OpsClient unsigned = new OpsClient(stack.opsEndpoint, null, null, "us-east-1");
        OpsClient wrongSecret = new OpsClient(stack.opsEndpoint, "accessKey1", "not-the-secret", "us-east-1");
        OpsClient unknownKey = new OpsClient(stack.opsEndpoint, "someoneElse", "verySecretKey1", "us-east-1");
        List<String[]> routes = List.of(
                new String[]{"GET", "/_/metrics/crr/all"}, new String[]{"GET", "/_/metrics/crr/aws-location/backlog"},
                new String[]{"GET", "/_/metrics/crr/aws-location/progress/b/k"}, new String[]{"GET", "/_/crr/failed"},
                new String[]{"GET", "/_/crr/failed/b/k"}, new String[]{"POST", "/_/crr/failed"}, new String[]{"GET", "/_/crr/status"},
                new String[]{"POST", "/_/crr/pause/aws-location"}, new String[]{"POST", "/_/crr/resume"},
                new String[]{"POST", "/_/crr/resume/all/schedule"}, new String[]{"DELETE", "/_/crr/resume/all/schedule"},
                new String[]{"GET", "/_/crr/resume/all"}, new String[]{"GET", "/_/monitoring/metrics"}, new String[]{"GET", "/_/no/such/route"});
        for (String[] route : routes) {
            for (OpsClient client : List.of(unsigned, wrongSecret, unknownKey)) {
                OpsClient.Reply reply = client.call(route[0], route[1], Map.of("sitename", "aws-location", "versionId", "v"), route[0].equals("GET") ? null : "[]");
                assertThat(reply.status()).as(route[0] + " " + route[1]).isEqualTo(403);
                // Issue 32: one body whatever was wrong (unsigned, bad secret, unknown key): nothing to learn by trying.
                assertThat(reply.body()).as(route[0] + " " + route[1]).isEqualTo(
                        "{\"code\":\"AccessDenied\",\"message\":\"the request is not signed as this API requires (AWS SigV4 for service"
                                + " execute-api by a configured access key); the server's log says why\"}");
            }
        }
        assertThat(stack.api("GET", "/_/crr/status").path("aws-location").asText()).as("nothing was paused").isEqualTo("enabled");

        // The console's static files alone are served unsigned, as API Gateway serves them in AWS (no data, no secret).
        for (String file : List.of("/console", "/console/aws4fetch-1.0.20.esm.mjs", "/favicon.ico")) {
            assertThat(unsigned.call("GET", file, Map.of(), null).status()).as(file).isEqualTo(200);
        }
        assertThat(unsigned.call("POST", "/console", Map.of(), "{}").status()).as("only GET").isEqualTo(403);

        // Issue 32: an unsigned healthcheck gets its status alone; the topics' layout and Kafka's errors are for signed callers.
        OpsClient.Reply health = unsigned.call("GET", "/_/healthcheck", Map.of(), null);
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("{\"status\":\"ok\"}");
        assertThat(wrongSecret.call("GET", "/_/healthcheck", Map.of(), null).status()).as("a bad signature is refused here too").isEqualTo(403);
        JsonNode topics = stack.api("GET", "/_/healthcheck").path("topics");
        assertThat(topics.path("backbeat-replication").path("partitions")).hasSize(8)
                .allSatisfy(p -> assertThat(p.path("isrs")).isNotEmpty());
    }

    @Test
    void errorsAndTheOtherRoutesKeepBackbeatsShapes() throws Exception {
        assertThat(stack.api(404, "GET", "/_/no/such/route", Map.of(), null).path("code").asText()).isEqualTo("RouteNotFound");
        assertThat(stack.api(404, "GET", "/_/metrics/crr/mars/all", Map.of(), null).path("code").asText()).isEqualTo("RouteNotFound");
        assertThat(stack.api(405, "DELETE", "/_/crr/status", Map.of(), null).path("code").asText()).isEqualTo("MethodNotAllowed");
        assertThat(stack.api(400, "GET", "/_/crr/failed", Map.of("sitename", ""), null).path("code").asText()).isEqualTo("InvalidQueryParameter");
        assertThat(stack.api(400, "GET", "/_/crr/failed", Map.of("sitename", "aws-location", "marker", "x"), null).path("code").asText())
                .isEqualTo("InvalidQueryParameter");
        assertThat(stack.api(400, "POST", "/_/crr/failed", Map.of(), "{not json").path("code").asText()).isEqualTo("MalformedPOSTRequest");
        assertThat(stack.api(400, "POST", "/_/crr/failed", Map.of(), "[{\"Bucket\":\"b\"}]").path("message").asText()).contains("Key");

        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        byte[] body = StackClients.randomBytes(1000);
        String version = stack.source.putObject(r -> r.bucket(bucket).key("progress"), RequestBody.fromBytes(body)).versionId();
        stack.awaitSiteStatus(bucket, "progress", version, SharedStack.AWS_LOCATION, ReplicationStatus.COMPLETED);
        JsonNode progress = stack.api(200, "GET", "/_/metrics/crr/aws-location/progress/" + bucket + "/progress", Map.of("versionId", version), null);
        assertThat(progress.path("completed").asLong()).isEqualTo(1000);
        assertThat(progress.path("pending").asLong()).isZero();
        assertThat(progress.path("progress").asText()).isEqualTo("100%");

        JsonNode all = stack.api("GET", "/_/metrics/crr/all");
        assertThat(all.fieldNames()).toIterable().containsExactly("backlog", "completions", "failures", "throughput", "pending");
        assertThat(all.path("completions").path("results").path("count").asLong()).isPositive();
        assertThat(all.path("completions").path("description").asText()).contains("86400");

        OpsClient.Reply prometheus = stack.ops.call("GET", "/_/monitoring/metrics", Map.of(), null);
        assertThat(prometheus.body()).contains("# TYPE backbeat_replication_completed_total counter")
                .containsPattern("backbeat_replication_completed_total\\{site=\"aws-location\"} [1-9]");
    }

    private static long count(JsonNode metrics, String type) {
        return metrics.path(type).path("results").path("count").asLong();
    }
}
