package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.localstack.EmbeddedStack;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.ObjectVersion;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The embedded stack on the S3-events feed ({@code localstack/backbeat-s3-events.json}): the source
 * server sends S3 event notifications to a real SQS server (ElasticMQ), the populator reads them, and
 * every kind of change the notifications carry reaches the destination — put, copy, completed
 * multipart upload, delete marker from a DELETE and from a multi-object delete — including keys that
 * need encoding. Its own stack (a second one next to the shared stack), on free ports.
 */
class S3EventNotificationsStackTest {

    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final String SITE_BUCKET = "dest-bucket";

    private static EmbeddedStack stack;
    private static S3Client source;
    private static S3Client destination;

    @BeforeAll
    static void start() throws Exception {
        BackbeatConfig config = EmbeddedStack.onFreePorts(BackbeatConfig.load(Path.of("../localstack/backbeat-s3-events.json")));
        stack = EmbeddedStack.start(config, EmbeddedStack.Options.defaults());
        source = AwsClients.s3(config.source().endpoint(), 8);
        destination = AwsClients.s3(config.requireSite("aws-location").endpoint(), 8);
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
            destination.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    /**
     * Events of a bucket whose replication configuration cannot be used stay in the queue; once the configuration
     * is fixed they come back and replicate. Before, they were deleted from the queue and lost.
     */
    @Test
    void eventsOfABucketWithAnInvalidConfigurationAreKeptUntilItIsFixed() {
        String bucket = "held-" + UUID.randomUUID().toString().substring(0, 8);
        source.createBucket(r -> r.bucket(bucket));
        source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        putRule(bucket, "no-such-site");
        String version = source.putObject(r -> r.bucket(bucket).key("waits"), RequestBody.fromString("kept")).versionId();
        var feed = (io.backbeatserverless.populator.S3EventNotificationFeed) stack.populator().populator().feed();
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> feed.held() >= 1);

        putRule(bucket, "aws-location");

        assertThat(awaitReplicaBytes(bucket + "/waits", version)).isEqualTo("kept".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * Issue 28 #2: what lands in the feed's dead-letter queue (after 5 receives the populator could not use) goes back
     * onto the queue at the operator's word, {@code POST /_/crr/source-events/redrive} (SQS's message move task), and
     * its version replicates. Here the dead letter is the event of a version whose bucket had no rules yet when it came.
     */
    @Test
    void deadLettersGoBackOntoTheFeedThroughTheOpsApiAndReplicate() throws Exception {
        String bucket = "redrive-" + UUID.randomUUID().toString().substring(0, 8);
        source.createBucket(r -> r.bucket(bucket));
        source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        var put = source.putObject(r -> r.bucket(bucket).key("came back"), RequestBody.fromString("redriven"));
        putRule(bucket, "aws-location");
        String queueUrl = stack.config().source().feed().url();
        String event = """
                {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventTime":"%s","eventName":"ObjectCreated:Put",
                 "s3":{"bucket":{"name":"%s"},"object":{"key":"came+back","size":8,"eTag":%s,"versionId":"%s","sequencer":"0A"}}}]}"""
                .formatted(java.time.Instant.now(), bucket, put.eTag(), put.versionId());
        try (var sqs = io.backbeatserverless.adapters.aws.SqsQueues.client(queueUrl, stack.config().source().endpoint())) {
            String deadLetters = sqs.getQueueUrl(r -> r.queueName(queueUrl.substring(queueUrl.lastIndexOf('/') + 1) + "-dead-letters")).queueUrl();
            sqs.sendMessage(r -> r.queueUrl(deadLetters).messageBody(event));
        }
        var ops = new io.backbeatserverless.ops.OpsClient(java.net.URI.create("http://127.0.0.1:" + stack.config().ops().port()),
                "accessKey1", "verySecretKey1", "us-east-1");
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        await().atMost(DEADLINE).untilAsserted(() -> assertThat(json.readTree(ops.call("GET", "/_/crr/source-events", java.util.Map.of(), null).body())
                .path("DeadLetters").asLong()).isEqualTo(1));

        var redrive = ops.call("POST", "/_/crr/source-events/redrive", java.util.Map.of(), null);
        assertThat(redrive.status()).as(redrive.body()).isEqualTo(200);
        assertThat(json.readTree(redrive.body()).path("TaskHandle").asText()).isNotEmpty();

        assertThat(awaitReplicaBytes(bucket + "/came back", put.versionId())).isEqualTo("redriven".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        var status = json.readTree(ops.call("GET", "/_/crr/source-events", java.util.Map.of(), null).body());
        assertThat(status.path("DeadLetters").asLong()).as("%s", status).isZero();
        assertThat(status.path("Redrives")).as("%s", status).isNotEmpty();
    }

    private static void putRule(String bucket, String site) {
        source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                .role("arn:aws:iam::root:role/events").rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                        .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass(site))).build()));
    }

    @Test
    void everyKindOfChangeReachesTheDestinationThroughEventNotifications() {
        String bucket = replicatedBucket();
        byte[] body = randomBytes(10_000);
        String spaced = "dir one/a+b c.txt";

        String put = source.putObject(r -> r.bucket(bucket).key(spaced), RequestBody.fromBytes(body)).versionId();
        String copied = source.copyObject(r -> r.sourceBucket(bucket).sourceKey(spaced).sourceVersionId(put)
                .destinationBucket(bucket).destinationKey("copy")).versionId();
        byte[] part1 = randomBytes(5 * 1024 * 1024);
        byte[] part2 = randomBytes(1024);
        String upload = source.createMultipartUpload(r -> r.bucket(bucket).key("mpu")).uploadId();
        String e1 = source.uploadPart(r -> r.bucket(bucket).key("mpu").uploadId(upload).partNumber(1), RequestBody.fromBytes(part1)).eTag();
        String e2 = source.uploadPart(r -> r.bucket(bucket).key("mpu").uploadId(upload).partNumber(2), RequestBody.fromBytes(part2)).eTag();
        String completed = source.completeMultipartUpload(r -> r.bucket(bucket).key("mpu").uploadId(upload).multipartUpload(u -> u.parts(
                CompletedPart.builder().partNumber(1).eTag(e1).build(), CompletedPart.builder().partNumber(2).eTag(e2).build()))).versionId();

        assertThat(awaitReplicaBytes(bucket + "/" + spaced, put)).isEqualTo(body);
        assertThat(awaitReplicaBytes(bucket + "/copy", copied)).isEqualTo(body);
        byte[] whole = new byte[part1.length + part2.length];
        System.arraycopy(part1, 0, whole, 0, part1.length);
        System.arraycopy(part2, 0, whole, part1.length, part2.length);
        assertThat(awaitReplicaBytes(bucket + "/mpu", completed)).isEqualTo(whole);

        // A DELETE without a version id and a multi-object delete both leave delete markers: so must the site.
        source.deleteObject(r -> r.bucket(bucket).key(spaced));
        source.deleteObjects(r -> r.bucket(bucket).delete(d -> d.objects(ObjectIdentifier.builder().key("copy").build(),
                ObjectIdentifier.builder().key("mpu").build())));
        for (String key : List.of(spaced, "copy", "mpu")) {
            await().atMost(DEADLINE).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                    assertThat(latestAtSite(bucket + "/" + key)).as("latest version of %s at the site", key)
                            .hasValueSatisfying(v -> assertThat(v.isDeleteMarker()).isTrue()));
        }
    }

    /** A tag change is an event of its own (s3:ObjectTagging:Put / :Delete): the replica is re-tagged, not copied again. */
    @Test
    void aTagChangeReTagsTheReplica() {
        String bucket = replicatedBucket();
        String version = source.putObject(r -> r.bucket(bucket).key("labelled").tagging("team=ops"), RequestBody.fromString("tags")).versionId();
        awaitReplicaBytes(bucket + "/labelled", version);
        source.putObjectTagging(r -> r.bucket(bucket).key("labelled").versionId(version)
                .tagging(t -> t.tagSet(software.amazon.awssdk.services.s3.model.Tag.builder().key("team").value("storage").build())));

        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> assertThat(destination.getObjectTagging(
                r -> r.bucket(SITE_BUCKET).key(bucket + "/labelled")).tagSet()).singleElement()
                .satisfies(t -> assertThat(t.key() + "=" + t.value()).isEqualTo("team=storage")));

        source.deleteObjectTagging(r -> r.bucket(bucket).key("labelled").versionId(version));
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> assertThat(destination.getObjectTagging(
                r -> r.bucket(SITE_BUCKET).key(bucket + "/labelled")).tagSet()).isEmpty());
        assertThat(destination.listObjectVersions(r -> r.bucket(SITE_BUCKET).prefix(bucket + "/labelled")).versions())
                .as("re-tagged in place").hasSize(1);
    }

    private static String replicatedBucket() {
        String bucket = "events-" + UUID.randomUUID().toString().substring(0, 8);
        source.createBucket(r -> r.bucket(bucket));
        source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                .role("arn:aws:iam::root:role/events").rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                        .deleteMarkerReplication(d -> d.status("Enabled"))
                        .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass("aws-location"))).build()));
        return bucket;
    }

    /** The replica of a source version (found by its scal-version-id), read whole once it exists. */
    private static byte[] awaitReplicaBytes(String siteKey, String sourceVersion) {
        return await().atMost(DEADLINE).pollInterval(Duration.ofMillis(200)).until(() -> {
            try {
                var head = destination.headObject(r -> r.bucket(SITE_BUCKET).key(siteKey));
                if (!sourceVersion.equals(head.metadata().get("scal-version-id"))) {
                    return null;
                }
                return destination.getObjectAsBytes(r -> r.bucket(SITE_BUCKET).key(siteKey).versionId(head.versionId())).asByteArray();
            } catch (S3Exception e) {
                return null;
            }
        }, bytes -> bytes != null);
    }

    private static Optional<LatestVersion> latestAtSite(String siteKey) {
        var listing = destination.listObjectVersions(r -> r.bucket(SITE_BUCKET).prefix(siteKey));
        Optional<LatestVersion> marker = listing.deleteMarkers().stream().filter(m -> m.key().equals(siteKey) && m.isLatest())
                .findFirst().map(m -> new LatestVersion(true));
        Optional<LatestVersion> version = listing.versions().stream().filter(v -> v.key().equals(siteKey) && v.isLatest())
                .map(ObjectVersion::key).findFirst().map(k -> new LatestVersion(false));
        return marker.isPresent() ? marker : version;
    }

    private record LatestVersion(boolean isDeleteMarker) {
    }

    private static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }
}
