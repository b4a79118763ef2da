package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.VersionStatus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ObjectVersion;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Backbeat's quickstart, as an operator does it with the AWS SDK against the embedded stack: a
 * versioned bucket, a replication configuration naming site {@code aws-location}, a put, and the
 * object at {@code dest-bucket/<bucket>/<key>} with its bytes, metadata and a COMPLETED status.
 */
class QuickstartReplicationTest extends StackScenario {

    private static final Duration REPLICATION_DEADLINE = StackClients.REPLICATION_DEADLINE;

    private static S3Client source;
    private static S3Client destination;
    private static DynamoDbReplicationStatusStore statusStore;
    private static LogCapture logs;

    @BeforeAll
    static void clients() {
        logs = LogCapture.install();
        source = stack.source;
        destination = stack.destination;
        statusStore = stack.statusStore;
    }

    @Test
    void anObjectPutInAReplicatedBucketArrivesWithItsBytesAndMetadataAndIsCompleted() {
        String bucket = replicatedBucket("aws-location");
        byte[] body = randomBytes(64 * 1024);

        PutObjectResponse put = source.putObject(r -> r.bucket(bucket).key("key0").contentType("application/octet-stream")
                .metadata(Map.of("color", "blue")), RequestBody.fromBytes(body));

        HeadObjectResponse replica = awaitReplica(bucket + "/key0", put.versionId());
        assertThat(replica.metadata()).containsEntry("color", "blue")
                .containsEntry("scal-replication-status", "REPLICA")
                .containsEntry("scal-version-id", put.versionId());
        assertThat(replica.contentType()).isEqualTo("application/octet-stream");
        assertThat(replica.contentLength()).isEqualTo(body.length);
        assertThat(destination.getObjectAsBytes(r -> r.bucket("dest-bucket").key(bucket + "/key0")).asByteArray()).isEqualTo(body);
        await().atMost(REPLICATION_DEADLINE).untilAsserted(() -> assertThat(status(bucket, "key0", put.versionId()))
                .hasValueSatisfying(s -> {
                    assertThat(s.overall()).isEqualTo(ReplicationStatus.COMPLETED);
                    assertThat(s.sites().get("aws-location").bytes()).isEqualTo(body.length);
                }));
    }

    @Test
    void aSecondPutOfTheSameKeyReplicatesTheNewVersionToo() {
        String bucket = replicatedBucket("aws-location");
        PutObjectResponse first = source.putObject(r -> r.bucket(bucket).key("doc"), RequestBody.fromString("first"));
        awaitReplica(bucket + "/doc", first.versionId());

        PutObjectResponse second = source.putObject(r -> r.bucket(bucket).key("doc"), RequestBody.fromString("second, longer"));

        awaitReplica(bucket + "/doc", second.versionId());
        assertThat(destination.getObjectAsBytes(r -> r.bucket("dest-bucket").key(bucket + "/doc")).asString(StandardCharsets.UTF_8))
                .isEqualTo("second, longer");
        List<ObjectVersion> versions = destination.listObjectVersions(r -> r.bucket("dest-bucket").prefix(bucket + "/doc")).versions();
        assertThat(versions).hasSize(2);
        await().atMost(REPLICATION_DEADLINE).untilAsserted(() -> assertThat(statusStore.findVersions(bucket, "doc"))
                .extracting(VersionStatus::versionId, VersionStatus::overall)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(first.versionId(), ReplicationStatus.COMPLETED),
                        org.assertj.core.groups.Tuple.tuple(second.versionId(), ReplicationStatus.COMPLETED)));
    }

    @Test
    void aDeleteBecomesADeleteMarkerAtTheDestination() {
        String bucket = replicatedBucket("aws-location");
        PutObjectResponse put = source.putObject(r -> r.bucket(bucket).key("gone"), RequestBody.fromString("soon deleted"));
        awaitReplica(bucket + "/gone", put.versionId());

        String markerVersion = source.deleteObject(r -> r.bucket(bucket).key("gone")).versionId();

        await().atMost(REPLICATION_DEADLINE).untilAsserted(() -> assertThat(
                destination.listObjectVersions(r -> r.bucket("dest-bucket").prefix(bucket + "/gone")).deleteMarkers())
                .hasSize(1));
        assertThat(headReplica(bucket + "/gone")).as("the latest version at the destination is a delete marker").isEmpty();
        await().atMost(REPLICATION_DEADLINE).untilAsserted(() -> assertThat(status(bucket, "gone", markerVersion))
                .hasValueSatisfying(s -> assertThat(s.overall()).isEqualTo(ReplicationStatus.COMPLETED)));
    }

    @Test
    void bucketsWithoutOrWithBadReplicationConfigurationsAreNotReplicatedAndDoNotStopOthers() {
        String plain = newVersionedBucket("plain");
        String unknownSite = replicatedBucket("mars");
        String noRole = newVersionedBucket("norole");
        source.putBucketReplication(r -> r.bucket(noRole).replicationConfiguration(ReplicationConfiguration.builder()
                .role("").rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                        .destination(d -> d.bucket("arn:aws:s3:::x").storageClass("aws-location"))).build()));
        source.putObject(r -> r.bucket(plain).key("notreplicated"), RequestBody.fromString("stay here"));
        source.putObject(r -> r.bucket(unknownSite).key("lost-in-space"), RequestBody.fromString("no such site"));
        source.putObject(r -> r.bucket(noRole).key("no-role"), RequestBody.fromString("invalid rules"));

        // A replicated object put afterwards arrives: the populator went past the others and kept going.
        String replicated = replicatedBucket("aws-location");
        PutObjectResponse marker = source.putObject(r -> r.bucket(replicated).key("after"), RequestBody.fromString("after"));
        awaitReplica(replicated + "/after", marker.versionId());
        await().atMost(REPLICATION_DEADLINE).untilAsserted(() -> assertThat(logs.lines())
                .anySatisfy(line -> assertThat(line).contains("bucket '" + unknownSite + "' not replicated")
                        .contains("names unknown site 'mars'"))
                .anySatisfy(line -> assertThat(line).contains("bucket '" + noRole + "' not replicated").contains("Role is missing")));

        assertThat(headReplica(plain + "/notreplicated")).isEmpty();
        assertThat(headReplica(unknownSite + "/lost-in-space")).isEmpty();
        assertThat(headReplica(noRole + "/no-role")).isEmpty();
        assertThat(statusStore.findVersions(plain, "notreplicated")).isEmpty();
        assertThat(statusStore.findVersions(unknownSite, "lost-in-space")).isEmpty();
    }

    private static HeadObjectResponse awaitReplica(String destinationKey, String sourceVersionId) {
        return stack.awaitReplica(destinationKey, sourceVersionId);
    }

    private static Optional<HeadObjectResponse> headReplica(String destinationKey) {
        return stack.headReplica(destinationKey);
    }

    private static Optional<VersionStatus> status(String bucket, String key, String versionId) {
        return stack.status(bucket, key, versionId);
    }

    private static String replicatedBucket(String site) {
        return stack.replicatedBucket(site);
    }

    private static String newVersionedBucket(String prefix) {
        return stack.newVersionedBucket(prefix);
    }

    private static byte[] randomBytes(int size) {
        return StackClients.randomBytes(size);
    }
}
