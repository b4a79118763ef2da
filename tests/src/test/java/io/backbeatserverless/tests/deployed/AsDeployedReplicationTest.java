package io.backbeatserverless.tests.deployed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Tag;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The stack as {@code cdk deploy} makes it, each function under its own synthesized role on moto with IAM enforced
 * ({@link AsDeployedStack}): an operator's scenarios through the S3-events feed, each asserting both sites' versions in
 * their order (a site's history of a key must be the source's: versions and delete markers alike), the status table,
 * and — once all have run — that no function's role was denied anything. Site {@code aws-role} is written with the
 * replicator's role (S3's server-side copies), site {@code keyed} with keys read from Secrets Manager (streamed copies).
 */
@ExtendWith(AsDeployedStack.class)
class AsDeployedReplicationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    static final List<String> SITES = List.of(AsDeployedStack.ROLE_SITE, AsDeployedStack.KEYED_SITE);

    private static AsDeployedStack.Running stack() {
        return AsDeployedStack.stack();
    }

    @AfterAll
    static void noRoleWasDeniedAnything() {
        assertThat(stack().deniedToRoles()).as("lines where a function's role was denied something").isEmpty();
    }

    @Test
    void quickstartAPutReachesBothSitesWithItsMetadataAndIsRecordedCompleted() {
        String key = key("quickstart");
        String version = put(key, "hello, replica", Map.of("color", "blue"));

        awaitCompleted(key, version);
        for (String site : SITES) {
            var replica = stack().s3.headObject(r -> r.bucket(bucketOf(site)).key(replicaKey(key)));
            assertThat(replica.metadata()).as(site).containsEntry("color", "blue").containsEntry("scal-version-id", version)
                    .containsEntry("scal-replication-status", "REPLICA");
            assertThat(replica.contentLength()).isEqualTo(14);
        }
        // Issue 35: the record expires once both sites completed it (statusRetentionDays, 30 on the S3-events feed).
        long inThirtyDays = java.time.Instant.now().plus(Duration.ofDays(30)).getEpochSecond();
        await().atMost(DEADLINE).untilAsserted(() -> assertThat(statusItem(key, version)).containsKey("expiresAt"));
        assertThat(Long.parseLong(statusItem(key, version).get("expiresAt").n())).isBetween(inThirtyDays - 600, inThirtyDays + 60);
    }

    private static Map<String, AttributeValue> statusItem(String key, String versionId) {
        return stack().dynamo.getItem(r -> r.tableName(stack().table("TablesReplicationStatus"))
                .key(Map.of("object", AttributeValue.fromS(AsDeployedStack.SOURCE_BUCKET + "/" + key),
                        "versionId", AttributeValue.fromS(versionId))).consistentRead(true)).item();
    }

    /** A backfill job's items in the status table: its pages of the source bucket (the answers on them) and its counters. */
    private static String backfillItems(String job) {
        StringBuilder items = new StringBuilder();
        for (String partition : List.of("#pages/" + AsDeployedStack.SOURCE_BUCKET, "#backfill/" + job)) {
            stack().dynamo.queryPaginator(r -> r.tableName(stack().table("TablesReplicationStatus")).consistentRead(true)
                    .keyConditionExpression("#pk = :pk").expressionAttributeNames(Map.of("#pk", "object"))
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(partition)))).items().stream()
                    .filter(item -> !partition.startsWith("#pages/") || item.containsKey("job") && job.equals(item.get("job").s()))
                    .forEach(item -> items.append(item).append('\n'));
        }
        return items.toString();
    }

    @Test
    void anOverwriteLandsOnTopOfTheVersionBefore() {
        String key = key("overwrite");
        String first = put(key, "one", Map.of());
        String second = put(key, "two", Map.of());

        awaitCompleted(key, first);
        awaitCompleted(key, second);
        awaitSameHistoryAtEverySite(key);
        for (String site : SITES) {
            assertThat(stack().s3.getObjectAsBytes(r -> r.bucket(bucketOf(site)).key(replicaKey(key))).asUtf8String()).as(site).isEqualTo("two");
        }
    }

    @Test
    void aDeleteMarkerHidesTheReplica() {
        String key = key("deleted");
        String version = put(key, "soon gone", Map.of());
        String marker = stack().s3.deleteObject(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key)).versionId();

        awaitCompleted(key, version);
        awaitCompleted(key, marker);
        awaitSameHistoryAtEverySite(key);
        assertThat(history(AsDeployedStack.SOURCE_BUCKET, key).getFirst().deleteMarker()).isTrue();
    }

    /** The replicator lists the site's versions of the key here (s3:ListBucketVersions): the finding that started this suite. */
    @Test
    void aKeyRecreatedAfterADeleteHasItsWholeHistoryAtTheSites() {
        String key = key("recreated");
        String first = put(key, "first life", Map.of());
        String marker = stack().s3.deleteObject(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key)).versionId();
        String second = put(key, "second life", Map.of());

        for (String version : List.of(first, marker, second)) {
            awaitCompleted(key, version);
        }
        awaitSameHistoryAtEverySite(key);
        for (String site : SITES) {
            assertThat(stack().s3.getObjectAsBytes(r -> r.bucket(bucketOf(site)).key(replicaKey(key))).asUtf8String())
                    .as(site).isEqualTo("second life");
        }
    }

    @Test
    void twoDeleteMarkersInARowAreBothReplicated() {
        String key = key("two-markers");
        String version = put(key, "deleted twice", Map.of());
        String firstMarker = stack().s3.deleteObject(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key)).versionId();
        String secondMarker = stack().s3.deleteObject(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key)).versionId();

        for (String entry : List.of(version, firstMarker, secondMarker)) {
            awaitCompleted(key, entry);
        }
        awaitSameHistoryAtEverySite(key);
    }

    /** Tags travel with the version, and a later change of them (s3:ObjectTagging:Put) re-tags the replica, no bytes copied. */
    @Test
    void tagsSetAtPutAndChangedLaterReachTheReplica() {
        String key = key("tagged");
        String version = stack().s3.putObject(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key).tagging("team=ops&tier=gold"),
                RequestBody.fromString("tagged")).versionId();
        awaitCompleted(key, version);
        for (String site : SITES) {
            assertThat(tagsAt(bucketOf(site), replicaKey(key))).as(site).containsExactlyInAnyOrderEntriesOf(Map.of("team", "ops", "tier", "gold"));
        }
        int versionsBefore = history(bucketOf(AsDeployedStack.KEYED_SITE), replicaKey(key)).size();

        stack().s3.putObjectTagging(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key).versionId(version)
                .tagging(t -> t.tagSet(Tag.builder().key("team").value("storage").build())));

        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            for (String site : SITES) {
                assertThat(tagsAt(bucketOf(site), replicaKey(key))).as(site).containsExactlyEntriesOf(Map.of("team", "storage"));
            }
        });
        assertThat(history(bucketOf(AsDeployedStack.KEYED_SITE), replicaKey(key))).as("re-tagged in place, not copied again")
                .hasSize(versionsBefore);
    }

    /** 17 MiB in three parts: above the replicators' multipart threshold (UploadPartCopy at one site, UploadPart at the other). */
    @Test
    void aMultipartObjectArrivesWholeAtBothSites() {
        String key = key("multipart");
        byte[] body = new byte[17 * 1024 * 1024];
        ThreadLocalRandom.current().nextBytes(body);
        String upload = stack().s3.createMultipartUpload(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key)).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        int partSize = 6 * 1024 * 1024;
        for (int number = 1, from = 0; from < body.length; number++, from += partSize) {
            int part = number;
            byte[] bytes = java.util.Arrays.copyOfRange(body, from, Math.min(body.length, from + partSize));
            String eTag = stack().s3.uploadPart(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key).uploadId(upload).partNumber(part),
                    RequestBody.fromBytes(bytes)).eTag();
            parts.add(CompletedPart.builder().partNumber(part).eTag(eTag).build());
        }
        String version = stack().s3.completeMultipartUpload(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key).uploadId(upload)
                .multipartUpload(m -> m.parts(parts))).versionId();

        awaitCompleted(key, version);
        for (String site : SITES) {
            assertThat(stack().s3.getObjectAsBytes(r -> r.bucket(bucketOf(site)).key(replicaKey(key))).asByteArray()).as(site).isEqualTo(body);
        }
    }

    /**
     * Issue 28: S3 reports a multipart object's Last-Modified as its upload's initiation, so a multipart version completed
     * after a later plain PUT looks older; the sites must still end with it on top, as the source lists it.
     */
    @Test
    void aMultipartVersionCompletedAfterALaterPutEndsOnTop() {
        String key = key("multipart-last");
        String upload = stack().s3.createMultipartUpload(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key)).uploadId();
        java.time.Instant initiated = java.time.Instant.now();
        await().atMost(Duration.ofSeconds(3)).until(() -> java.time.Instant.now().getEpochSecond() > initiated.getEpochSecond());
        String plain = put(key, "plain, older", Map.of());
        awaitCompleted(key, plain);
        String eTag = stack().s3.uploadPart(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key).uploadId(upload).partNumber(1),
                RequestBody.fromString("multipart, newer")).eTag();
        String multipart = stack().s3.completeMultipartUpload(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key).uploadId(upload)
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(eTag).build()))).versionId();

        awaitCompleted(key, multipart);
        awaitSameHistoryAtEverySite(key);
        for (String site : SITES) {
            assertThat(stack().s3.getObjectAsBytes(r -> r.bucket(bucketOf(site)).key(replicaKey(key))).asUtf8String())
                    .as(site).isEqualTo("multipart, newer");
        }
    }

    /** At least once: an entry delivered again (a replayed batch) changes nothing at the sites. */
    @Test
    void aReplayedEntryAddsNoVersionAtTheSites() throws Exception {
        String key = key("replayed");
        String version = put(key, "once", Map.of());
        awaitCompleted(key, version);
        Map<String, Integer> before = new java.util.HashMap<>();
        for (String site : SITES) {
            before.put(site, history(bucketOf(site), replicaKey(key)).size());
        }

        ConsumerRecord<byte[], byte[]> entry = entryOf(key);
        try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", stack().kafka.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(entry.topic(), entry.key(), entry.value())).get();
        }
        // Both replicators have taken the replayed entry when their consumer groups are past it.
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(250)).until(() -> consumedEverywhere(entry.topic()));
        for (String site : SITES) {
            assertThat(history(bucketOf(site), replicaKey(key))).as(site).hasSize(before.get(site));
        }
        awaitCompleted(key, version);
    }

    /**
     * A version a site refuses (its owner took the keys' rights away) is FAILED with the site's reason, listed by the ops
     * API, announced on EventBridge as S3's OperationFailedReplication (the template's rule matches it), and retried to
     * COMPLETED once the rights are back; the other site is not held up.
     */
    @Test
    void aFailureIsListedAnnouncedAndRetriedToCompleted() throws Exception {
        String key = key("refused");
        String policy = stack().iam.getUserPolicy(r -> r.userName(AsDeployedStack.KEYED_SITE_WRITER).policyName("site-keys")).policyDocument();
        stack().iam.deleteUserPolicy(r -> r.userName(AsDeployedStack.KEYED_SITE_WRITER).policyName("site-keys"));
        String version;
        try {
            version = put(key, "refused at one site", Map.of());
            awaitStatus(key, version, AsDeployedStack.ROLE_SITE, "COMPLETED");
            awaitStatus(key, version, AsDeployedStack.KEYED_SITE, "FAILED");
        } finally {
            stack().iam.putUserPolicy(r -> r.userName(AsDeployedStack.KEYED_SITE_WRITER).policyName("site-keys")
                    .policyDocument(java.net.URLDecoder.decode(policy, StandardCharsets.UTF_8)));
        }
        JsonNode failed = opsJson("GET", "/_/crr/failed?sitename=" + AsDeployedStack.KEYED_SITE, null);
        JsonNode listed = null;
        for (JsonNode entry : failed.path("Versions")) {
            if (entry.path("Key").asText().equals(key)) {
                listed = entry;
            }
        }
        assertThat(listed).as("failed entries of site keyed: %s", failed).isNotNull();
        assertThat(listed.path("VersionId").asText()).isEqualTo(version);
        // The site's first answer is to a HEAD of the replica: a 403 without a body, as S3 answers a HEAD it refuses.
        assertThat(listed.path("Reason").asText()).contains("HTTP 403");

        JsonNode event = awaitFailureEvent(version);
        assertThat(event.path("detail-type").asText()).isEqualTo("OperationFailedReplication");
        assertThat(event.toString()).contains(AsDeployedStack.KEYED_SITE);

        JsonNode retried = opsJson("POST", "/_/crr/failed", "[{\"Bucket\":\"" + AsDeployedStack.SOURCE_BUCKET + "\",\"Key\":\"" + key
                + "\",\"VersionId\":\"" + version + "\",\"StorageClass\":\"" + AsDeployedStack.KEYED_SITE + "\"}]");
        assertThat(retried.toString()).contains("PENDING");
        awaitCompleted(key, version);
        assertThat(stack().s3.getObjectAsBytes(r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).key(replicaKey(key))).asUtf8String())
                .isEqualTo("refused at one site");
    }

    /**
     * Issue 30, under the synthesized roles: an SSE-KMS version under retention and a legal hold reaches the role site with
     * its lock, encrypted with that site's key; the keyed site, whose bucket has no Object Lock, fails it with S3
     * Replication's reason, and holds no copy without the lock. (moto keeps locks on single-part puts; its multipart
     * uploads drop them, so a single part here.)
     */
    @Test
    void aLockedSseKmsVersionKeepsItsLockAtASiteWithObjectLockAndFailsWithTheReasonAtOneWithout() throws Exception {
        String key = key("locked");
        java.time.Instant until = java.time.Instant.now().plus(Duration.ofDays(1)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        String version = stack().s3.putObject(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key)
                .objectLockMode(software.amazon.awssdk.services.s3.model.ObjectLockMode.GOVERNANCE).objectLockRetainUntilDate(until)
                .objectLockLegalHoldStatus(software.amazon.awssdk.services.s3.model.ObjectLockLegalHoldStatus.ON)
                .serverSideEncryption(software.amazon.awssdk.services.s3.model.ServerSideEncryption.AWS_KMS)
                .ssekmsKeyId(AsDeployedStack.SOURCE_KMS_KEY)
                .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.CRC32), RequestBody.fromString("locked")).versionId();

        awaitStatus(key, version, AsDeployedStack.ROLE_SITE, "COMPLETED");
        awaitStatus(key, version, AsDeployedStack.KEYED_SITE, "FAILED");

        var replica = stack().s3.headObject(r -> r.bucket(AsDeployedStack.ROLE_SITE_BUCKET).key(replicaKey(key)));
        assertThat(replica.objectLockModeAsString()).isEqualTo("GOVERNANCE");
        assertThat(replica.objectLockRetainUntilDate()).isEqualTo(until);
        assertThat(replica.objectLockLegalHoldStatusAsString()).isEqualTo("ON");
        assertThat(replica.serverSideEncryptionAsString()).isEqualTo("aws:kms");
        assertThat(replica.ssekmsKeyId()).isEqualTo(AsDeployedStack.REPLICA_KMS_KEY);
        JsonNode failed = opsJson("GET", "/_/crr/failed?sitename=" + AsDeployedStack.KEYED_SITE, null);
        assertThat(failed.path("Versions").findValues("Reason").stream().map(JsonNode::asText).toList()).as("%s", failed)
                .anyMatch(reason -> reason.startsWith("DstBucketObjectLockConfigMissing: site '" + AsDeployedStack.KEYED_SITE + "'"));
        assertThat(stack().s3.listObjectVersions(r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).prefix(replicaKey(key))).versions())
                .as("no copy without its lock").isEmpty();
    }

    /** Pausing a site disables its MSK trigger (UpdateEventSourceMapping under the ops role); nothing is lost, and resume catches up. */
    @Test
    void aPausedSiteWaitsAndCatchesUpOnResume() throws Exception {
        opsJson("POST", "/_/crr/pause/" + AsDeployedStack.KEYED_SITE, null);
        String key = key("paused");
        String version;
        try {
            stack().awaitTrigger(AsDeployedStack.KEYED_SITE, false);
            assertThat(opsJson("GET", "/_/crr/status", null).path(AsDeployedStack.KEYED_SITE).asText()).isEqualTo("disabled");
            version = put(key, "while paused", Map.of());
            awaitStatus(key, version, AsDeployedStack.ROLE_SITE, "COMPLETED");
            // The paused site gets nothing while its mapping is disabled.
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> history(AsDeployedStack.KEYED_SITE_BUCKET,
                    replicaKey(key)).isEmpty());
        } finally {
            opsJson("POST", "/_/crr/resume/" + AsDeployedStack.KEYED_SITE, null);
        }
        assertThat(opsJson("GET", "/_/crr/status", null).path(AsDeployedStack.KEYED_SITE).asText()).isEqualTo("enabled");
        awaitCompleted(key, version);
    }

    /**
     * A backfill job (issue 29) under the roles: the ops function starts it, the populator's task lists the source a page
     * at a time, each replicator lists its site over the page and copies what is missing there (server-side with the
     * role at one site, streamed with keys at the other, each write conditional), the status processor records the pages.
     */
    @Test
    void aBackfillJobPutsBackWhatASiteLostAndCopiesNothingElse() throws Exception {
        String prefix = key("backfilled") + "/";
        List<String> keys = List.of(prefix + "a", prefix + "b", prefix + "c");
        Map<String, List<String>> versions = new java.util.LinkedHashMap<>();
        for (String key : keys) {
            versions.put(key, List.of(put(key, key + "/0", Map.of()), put(key, key + "/1", Map.of())));
            versions.get(key).forEach(v -> awaitCompleted(key, v));
        }
        // Each site loses a key's replicas.
        for (String site : SITES) {
            String lostKey = replicaKey(site.equals(AsDeployedStack.ROLE_SITE) ? keys.get(0) : keys.get(1));
            stack().s3.listObjectVersions(r -> r.bucket(bucketOf(site)).prefix(lostKey)).versions().forEach(v -> stack().s3
                    .deleteObject(r -> r.bucket(bucketOf(site)).key(v.key()).versionId(v.versionId())));
        }

        JsonNode started = opsJson(202, "POST", "/_/backfill/jobs", "{\"Bucket\":\"" + AsDeployedStack.SOURCE_BUCKET + "\",\"Prefix\":\""
                + prefix + "\"}");
        String id = started.path("Id").asText();
        JsonNode done = await().atMost(DEADLINE).pollInterval(Duration.ofMillis(500)).until(
                () -> opsJson("GET", "/_/backfill/jobs/" + id, null), j -> j.path("State").asText().matches("DONE|FAILED"));
        assertThat(done.path("State").asText()).as("%s", done).isEqualTo("DONE");
        assertThat(done.path("Listing").path("Queued").asInt()).isEqualTo(6);
        for (String site : SITES) {
            assertThat(done.path("BySite").path(site).path("Completed").asInt()).as("%s", done).isEqualTo(6);
        }
        keys.forEach(AsDeployedReplicationTest::awaitSameHistoryAtEverySite);
    }

    /** Verify under its own role proves both sites, and --repair puts back a replica the site lost. */
    @Test
    void verifyFindsALostReplicaAndRepairsIt() throws Exception {
        String key = key("verified");
        String version = put(key, "proven", Map.of());
        awaitCompleted(key, version);
        String lost = stack().s3.headObject(r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).key(replicaKey(key))).versionId();
        stack().s3.deleteObject(r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).key(replicaKey(key)).versionId(lost));

        JsonNode run = opsJson(202, "POST", "/_/crr/verify", "{\"Bucket\":\"" + AsDeployedStack.SOURCE_BUCKET + "\",\"Prefix\":\"" + key
                + "\",\"Repair\":true}");
        String id = run.path("Id").asText();
        JsonNode done = await().atMost(DEADLINE).pollInterval(Duration.ofMillis(500)).until(
                () -> opsJson("GET", "/_/crr/verify/" + id, null), r -> r.path("Phase").asText().equals("DONE"));
        assertThat(done.path("Sites").path(AsDeployedStack.KEYED_SITE).path("Missing").asInt()).as("%s", done).isEqualTo(1);
        assertThat(done.path("Sites").path(AsDeployedStack.KEYED_SITE).path("Repaired").asInt()).as("%s", done).isEqualTo(1);
        assertThat(done.path("Sites").path(AsDeployedStack.ROLE_SITE).path("Identical").asInt()).as("%s", done).isEqualTo(1);
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> assertThat(stack().s3.getObjectAsBytes(
                r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).key(replicaKey(key))).asUtf8String()).isEqualTo("proven"));
    }

    /**
     * Verify by S3 Inventory reports (issue 29) under the verifier's role: it finds the reports in the stack's reports
     * bucket (S3 would deliver them there by the inventory configurations the stack puts; the suite writes them as S3
     * does), keeps its shards beside them, and removes them. A replica lost before the reports is found; the role site
     * alone has reports (the keyed site's bucket is reached with keys, so the stack gives it no inventory).
     */
    @Test
    void verifyReadsTheInventoryReportsInTheStacksBucketUnderItsRole() throws Exception {
        String prefix = key("inventoried") + "/";
        List<String> keys = java.util.stream.IntStream.range(0, 5).mapToObj(i -> prefix + i).toList();
        for (String key : keys) {
            awaitStatus(key, put(key, "bytes of " + key, Map.of()), AsDeployedStack.ROLE_SITE, "COMPLETED");
        }
        String lost = stack().s3.headObject(r -> r.bucket(AsDeployedStack.ROLE_SITE_BUCKET).key(replicaKey(keys.get(2)))).versionId();
        stack().s3.deleteObject(r -> r.bucket(AsDeployedStack.ROLE_SITE_BUCKET).key(replicaKey(keys.get(2))).versionId(lost));
        String reports = stack().inventoryReportsBucket;
        java.time.Instant at = java.time.Instant.now();
        io.backbeatserverless.localstack.InventoryReportWriter.write(stack().s3, AsDeployedStack.SOURCE_BUCKET, stack().s3, reports, "inventories",
                "backbeat", 2, at);
        io.backbeatserverless.localstack.InventoryReportWriter.write(stack().s3, AsDeployedStack.ROLE_SITE_BUCKET, stack().s3, reports,
                "inventories", "backbeat", 1, at);
        try {
            JsonNode run = opsJson(202, "POST", "/_/crr/verify", "{\"Bucket\":\"" + AsDeployedStack.SOURCE_BUCKET + "\",\"Prefix\":\""
                    + prefix + "\",\"Sites\":[\"" + AsDeployedStack.ROLE_SITE + "\"]}");
            String id = run.path("Id").asText();
            JsonNode done = await().atMost(DEADLINE).pollInterval(Duration.ofMillis(500)).until(
                    () -> opsJson("GET", "/_/crr/verify/" + id, null), r -> r.path("Phase").asText().equals("DONE"));
            assertThat(done.path("ByInventory")).as("%s", done).extracting(JsonNode::asText).containsExactly(AsDeployedStack.SOURCE_BUCKET);
            assertThat(done.path("Sites").path(AsDeployedStack.ROLE_SITE).path("Missing").asInt()).as("%s", done).isEqualTo(1);
            assertThat(done.path("Sites").path(AsDeployedStack.ROLE_SITE).path("Identical").asInt()).as("%s", done).isEqualTo(4);
            assertThat(stack().s3.listObjectsV2(r -> r.bucket(reports).prefix("inventories/backbeat-verify/")).contents())
                    .as("shards left behind").isEmpty();
        } finally {
            // Later verify runs of the bucket go by its listings again.
            stack().s3.listObjectsV2Paginator(r -> r.bucket(reports).prefix("inventories/")).contents()
                    .forEach(o -> stack().s3.deleteObject(r -> r.bucket(reports).key(o.key())));
        }
    }

    /**
     * Verify --repair at scale (issue 29) under the roles: a site that lost a page's worth of replicas gets them back by
     * the backfill job the verifier starts (its role writes the job's item in the status table), which the populator lists
     * and the site's replicator answers.
     */
    @Test
    void aRepairOfManyMissingVersionsRunsAsABackfillJobUnderTheRoles() throws Exception {
        String prefix = key("repaired-by-job") + "/";
        int count = io.backbeatserverless.verifier.VerifyEngine.REPAIR_BY_JOB_AT;
        List<String> keys = java.util.stream.IntStream.range(0, count).mapToObj(i -> prefix + i).toList();
        Map<String, String> versions = new java.util.concurrent.ConcurrentHashMap<>();
        keys.parallelStream().forEach(k -> versions.put(k, put(k, "bytes of " + k, Map.of())));
        keys.forEach(k -> awaitStatus(k, versions.get(k), AsDeployedStack.KEYED_SITE, "COMPLETED"));
        stack().s3.listObjectVersionsPaginator(r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).prefix(replicaKey(prefix))).versions()
                .forEach(v -> stack().s3.deleteObject(r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).key(v.key()).versionId(v.versionId())));

        JsonNode run = opsJson(202, "POST", "/_/crr/verify", "{\"Bucket\":\"" + AsDeployedStack.SOURCE_BUCKET + "\",\"Prefix\":\"" + prefix
                + "\",\"Sites\":[\"" + AsDeployedStack.KEYED_SITE + "\"],\"Repair\":true}");
        String id = run.path("Id").asText();
        JsonNode done = await().atMost(DEADLINE).pollInterval(Duration.ofMillis(500)).until(
                () -> opsJson("GET", "/_/crr/verify/" + id, null), r -> r.path("Phase").asText().equals("DONE"));
        assertThat(done.path("Sites").path(AsDeployedStack.KEYED_SITE).path("Missing").asInt()).as("%s", done).isEqualTo(count);
        assertThat(done.path("RepairJobs")).as("%s", done).hasSize(1);
        String job = done.path("RepairJobs").path(0).path("Id").asText();
        JsonNode finished = await().atMost(DEADLINE).pollInterval(Duration.ofMillis(500)).until(
                () -> opsJson("GET", "/_/backfill/jobs/" + job, null), j -> j.path("State").asText().matches("DONE|FAILED"));
        assertThat(finished.path("State").asText()).as("%s", finished).isEqualTo("DONE");
        // Failed once in CI (3 runs) with the job DONE, 100 queued and 0 completed, failed or skipped; not reproduced in 7
        // runs since. The job's stored pages and counters, with the answer, say which side lost the count if it comes back.
        assertThat(finished.path("BySite").path(AsDeployedStack.KEYED_SITE).path("Completed").asInt())
                .as("%s%npages and counters: %s", finished, backfillItems(job)).isEqualTo(count);
        assertThat(stack().s3.getObjectAsBytes(r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).key(replicaKey(keys.get(7)))).asUtf8String())
                .isEqualTo("bytes of " + keys.get(7));
    }

    /**
     * A batch the MSK trigger gave up on lands in the stack's bucket (Lambda's S3 on-failure record: its metadata and the
     * whole invocation as payload; here the suite writes it as Lambda would). The ops API lists it and replays it onto
     * its topic under the ops role: from its payload, or, without one, from the topic by the offsets it names.
     */
    @Test
    void aBatchTheTriggerGaveUpOnIsReplayedFromItsPayloadOrItsOffsets() throws Exception {
        String withPayload = key("given-up");
        String withOffsets = key("given-up-offsets");
        Map<String, ConsumerRecord<byte[], byte[]>> entries = new java.util.LinkedHashMap<>();
        for (String key : List.of(withPayload, withOffsets)) {
            String version = put(key, "lost on the way", Map.of());
            awaitCompleted(key, version);
            String replica = stack().s3.headObject(r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).key(replicaKey(key))).versionId();
            stack().s3.deleteObject(r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).key(replicaKey(key)).versionId(replica));
            entries.put(key, entryOf(key));
        }
        putFailedBatch("aws/lambda/payload/1", entries.get(withPayload), true);
        putFailedBatch("aws/lambda/offsets/2", entries.get(withOffsets), false);

        JsonNode kept = opsJson("GET", "/_/crr/trigger-failures", null);
        assertThat(kept.path("Batches")).as("%s", kept).hasSize(2).allSatisfy(b -> assertThat(b.path("Condition").asText())
                .isEqualTo("RetryAttemptsExhausted"));
        JsonNode replayed = opsJson("POST", "/_/crr/trigger-failures/replay", null);
        assertThat(replayed.path("Replayed").asInt()).as("%s", replayed).isEqualTo(2);
        assertThat(replayed.path("Records").asInt()).isEqualTo(2);

        for (String key : entries.keySet()) {
            await().atMost(DEADLINE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> assertThat(stack().s3.getObjectAsBytes(
                    r -> r.bucket(AsDeployedStack.KEYED_SITE_BUCKET).key(replicaKey(key))).asUtf8String()).isEqualTo("lost on the way"));
        }
        assertThat(stack().s3.listObjectsV2(r -> r.bucket(stack().triggerFailuresBucket)).contents()).as("replayed batches are removed").isEmpty();
    }

    /** An S3 on-failure record as Lambda writes it (Lambda Developer Guide, with-msk-on-failure.html). */
    private static void putFailedBatch(String objectKey, ConsumerRecord<byte[], byte[]> record, boolean withPayload) throws Exception {
        var document = JSON.createObjectNode();
        document.putObject("requestContext").put("requestId", UUID.randomUUID().toString()).put("condition", "RetryAttemptsExhausted")
                .put("functionArn", "arn:aws:lambda:us-east-1:123456789012:function:replicator").put("approximateInvokeCount", 11);
        document.put("version", "1.0").put("timestamp", java.time.Instant.now().toString());
        var batch = document.putObject("KafkaBatchInfo").put("batchSize", 1).put("topic", record.topic());
        batch.putObject("recordsInfo").putObject(record.topic() + "-" + record.partition())
                .put("firstRecordOffset", Long.toString(record.offset())).put("lastRecordOffset", Long.toString(record.offset()));
        if (withPayload) {
            var event = JSON.createObjectNode().put("eventSource", "aws:kafka");
            event.putObject("records").putArray(record.topic() + "-" + record.partition()).addObject()
                    .put("topic", record.topic()).put("partition", record.partition()).put("offset", record.offset())
                    .put("timestamp", record.timestamp()).put("timestampType", "CREATE_TIME")
                    .put("key", java.util.Base64.getEncoder().encodeToString(record.key()))
                    .put("value", java.util.Base64.getEncoder().encodeToString(record.value()));
            document.put("payload", event.toString());
        }
        stack().s3.putObject(r -> r.bucket(stack().triggerFailuresBucket).key(objectKey), RequestBody.fromString(document.toString()));
    }

    // ---------------------------------------------------------------- helpers

    static String key(String scenario) {
        return scenario + "/" + UUID.randomUUID();
    }

    static String replicaKey(String key) {
        return AsDeployedStack.SOURCE_BUCKET + "/" + key; // bucketMatch false: the source bucket prefixes the key
    }

    static String bucketOf(String site) {
        return site.equals(AsDeployedStack.ROLE_SITE) ? AsDeployedStack.ROLE_SITE_BUCKET : AsDeployedStack.KEYED_SITE_BUCKET;
    }

    static String put(String key, String body, Map<String, String> metadata) {
        return stack().s3.putObject(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key).metadata(metadata), RequestBody.fromString(body))
                .versionId();
    }

    static void awaitCompleted(String key, String versionId) {
        for (String site : SITES) {
            awaitStatus(key, versionId, site, "COMPLETED");
        }
    }

    static void awaitStatus(String key, String versionId, String site, String status) {
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            Map<String, AttributeValue> item = statusItem(key, versionId);
            assertThat(item).as("status of %s %s", key, versionId).containsKey("site:" + site);
            assertThat(item.get("site:" + site).m().get("status").s()).as("%s at %s: %s", versionId, site, item).isEqualTo(status);
        });
    }

    /** One entry of a key's history: a version (with the source version it replicates, at a site) or a delete marker. */
    record Entry(String versionId, boolean deleteMarker, String replicaOf) {
    }

    /** A key's versions and delete markers, newest first, one a page: the SDK splits a page into the two kinds, losing their order. */
    static List<Entry> history(String bucket, String key) {
        List<Entry> entries = new ArrayList<>();
        String keyMarker = null;
        String versionMarker = null;
        while (true) {
            String fromKey = keyMarker;
            String fromVersion = versionMarker;
            var page = stack().s3.listObjectVersions(r -> r.bucket(bucket).prefix(key).maxKeys(1).keyMarker(fromKey).versionIdMarker(fromVersion));
            page.versions().stream().filter(v -> v.key().equals(key)).forEach(v -> entries.add(new Entry(v.versionId(), false,
                    stack().s3.headObject(r -> r.bucket(bucket).key(key).versionId(v.versionId())).metadata().get("scal-version-id"))));
            page.deleteMarkers().stream().filter(d -> d.key().equals(key)).forEach(d -> entries.add(new Entry(d.versionId(), true, null)));
            if (!Boolean.TRUE.equals(page.isTruncated())) {
                return entries;
            }
            keyMarker = page.nextKeyMarker();
            versionMarker = page.nextVersionIdMarker();
        }
    }

    /** Every site holds the key's whole history in the source's order: each version as its replica, each marker as a marker. */
    static void awaitSameHistoryAtEverySite(String key) {
        List<String> source = history(AsDeployedStack.SOURCE_BUCKET, key).stream()
                .map(e -> e.deleteMarker() ? "marker" : e.versionId()).toList();
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            for (String site : SITES) {
                List<String> atSite = history(bucketOf(site), replicaKey(key)).stream()
                        .map(e -> e.deleteMarker() ? "marker" : e.replicaOf()).toList();
                assertThat(atSite).as("history of %s at %s, newest first", key, site).containsExactlyElementsOf(source);
            }
        });
    }

    static Map<String, String> tagsAt(String bucket, String key) {
        Map<String, String> tags = new java.util.TreeMap<>();
        stack().s3.getObjectTagging(r -> r.bucket(bucket).key(key)).tagSet().forEach(t -> tags.put(t.key(), t.value()));
        return tags;
    }

    /** The key's entry as the populator queued it. */
    private static ConsumerRecord<byte[], byte[]> entryOf(String key) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack().kafka.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor("backbeat-replication").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (new String(record.value(), StandardCharsets.UTF_8).contains(key)) {
                        return record;
                    }
                }
            }
        }
        throw new AssertionError("no entry of " + key + " on backbeat-replication");
    }

    /** Whether every replicator's consumer group has committed the end of every partition of {@code topic}. */
    private static boolean consumedEverywhere(String topic) throws Exception {
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", stack().kafka.bootstrapServers()))) {
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            var ends = admin.listOffsets(partitions.stream().collect(java.util.stream.Collectors.toMap(p -> p,
                    p -> org.apache.kafka.clients.admin.OffsetSpec.latest()))).all().get();
            for (String site : SITES) {
                var committed = admin.listConsumerGroupOffsets("backbeat-replication-" + site).partitionsToOffsetAndMetadata().get();
                for (TopicPartition partition : partitions) {
                    long end = ends.get(partition).offset();
                    var at = committed.get(partition);
                    if (end > 0 && (at == null || at.offset() < end)) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    /** The OperationFailedReplication event of a version, as the template's event rule delivered it. */
    private static JsonNode awaitFailureEvent(String versionId) {
        List<JsonNode> seen = new ArrayList<>();
        return await().atMost(DEADLINE).pollInterval(Duration.ofMillis(250)).until(() -> {
            for (var message : stack().sqs.receiveMessage(r -> r.queueUrl(stack().eventRuleQueueUrl).maxNumberOfMessages(10)).messages()) {
                JsonNode event = JSON.readTree(message.body());
                seen.add(event);
                stack().sqs.deleteMessage(r -> r.queueUrl(stack().eventRuleQueueUrl).receiptHandle(message.receiptHandle()));
            }
            return seen.stream().filter(e -> e.toString().contains(versionId)).findFirst().orElse(null);
        }, java.util.Objects::nonNull);
    }

    static HttpResponse<String> ops(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(stack().opsUrl.toString() + path.substring(1)))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        }
    }

    static JsonNode opsJson(String method, String path, String body) throws Exception {
        return opsJson(200, method, path, body);
    }

    static JsonNode opsJson(int expected, String method, String path, String body) throws Exception {
        HttpResponse<String> response = ops(method, path, body);
        assertThat(response.statusCode()).as("%s %s: %s", method, path, response.body()).isEqualTo(expected);
        return JSON.readTree(response.body());
    }
}
