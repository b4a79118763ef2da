package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.core.status.VersionStatus;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static org.awaitility.Awaitility.await;

/** Clients of the shared stack and the steps every scenario takes, as an operator would with the SDK. */
final class StackClients implements AutoCloseable {

    static final String ROLE = "arn:aws:iam::root:role/s3-replication-role";
    static final Duration REPLICATION_DEADLINE = Duration.ofSeconds(10);

    final BackbeatConfig config;
    final S3Client source;
    final S3Client destination;
    final DynamoDbClient dynamo;
    final DynamoDbReplicationStatusStore statusStore;
    final io.backbeatserverless.ops.OpsClient ops;
    final java.net.URI opsEndpoint;

    StackClients() {
        config = SharedStack.stack().config();
        source = AwsClients.s3(config.source().endpoint(), 16);
        destination = AwsClients.s3(config.requireSite(SharedStack.AWS_LOCATION).endpoint(), 16);
        dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint());
        statusStore = new DynamoDbReplicationStatusStore(dynamo, config.dynamodb().tables().status(), Clock.systemUTC());
        opsEndpoint = java.net.URI.create("http://127.0.0.1:" + config.ops().port());
        ops = new io.backbeatserverless.ops.OpsClient(opsEndpoint, "accessKey1", "verySecretKey1", "us-east-1");
    }

    /** A signed call to the ops API, its body parsed as JSON; fails the test on a status other than {@code expectedStatus}. */
    com.fasterxml.jackson.databind.JsonNode api(int expectedStatus, String method, String path, java.util.Map<String, String> query, String body) {
        try {
            var reply = ops.call(method, path, query, body);
            org.assertj.core.api.Assertions.assertThat(reply.status()).as(method + " " + path + ": " + reply.body()).isEqualTo(expectedStatus);
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(reply.body());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    com.fasterxml.jackson.databind.JsonNode api(String method, String path) {
        return api(200, method, path, java.util.Map.of(), null);
    }

    /**
     * A new versioned source bucket whose one rule (Prefix "") replicates to {@code sites} (StorageClass), once the listing
     * feed has met it: the backfill job it starts for what the bucket holds (nothing) is listed, so versions put from
     * now on take the live path, one entry each, as a test of the live path wants (issue 29).
     */
    String replicatedBucket(String sites) {
        String bucket = newVersionedBucket("src");
        source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                .role(ROLE).rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                        .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass(sites))).build()));
        if (!java.util.Arrays.stream(sites.split(",")).allMatch(config.siteNames()::contains)) {
            return bucket; // rules naming an unknown site are invalid: no job, nothing replicated
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            for (var job : api("GET", "/_/backfill/jobs").path("Jobs")) {
                if (bucket.equals(job.path("Bucket").asText()) && !job.path("State").asText().equals("LISTING")) {
                    return true;
                }
            }
            return false;
        });
        return bucket;
    }

    String newVersionedBucket(String prefix) {
        String bucket = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        source.createBucket(r -> r.bucket(bucket));
        source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        return bucket;
    }

    /** Waits until the latest object at {@code bucket/key} of the destination server is the replica of {@code sourceVersionId}. */
    HeadObjectResponse awaitReplica(String bucket, String key, String sourceVersionId) {
        return await().atMost(REPLICATION_DEADLINE).pollInterval(Duration.ofMillis(100))
                .until(() -> head(bucket, key).filter(h -> sourceVersionId.equals(h.metadata().get("scal-version-id"))).orElse(null),
                        h -> h != null);
    }

    HeadObjectResponse awaitReplica(String destinationKey, String sourceVersionId) {
        return awaitReplica("dest-bucket", destinationKey, sourceVersionId);
    }

    Optional<HeadObjectResponse> head(String bucket, String key) {
        try {
            return Optional.of(destination.headObject(r -> r.bucket(bucket).key(key)));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    Optional<HeadObjectResponse> headReplica(String destinationKey) {
        return head("dest-bucket", destinationKey);
    }

    Optional<VersionStatus> status(String bucket, String key, String versionId) {
        return statusStore.find(new VersionRef(bucket, key, versionId));
    }

    /** Waits until the site's outcome for the version is {@code expected}, and returns it. */
    SiteOutcome awaitSiteStatus(String bucket, String key, String versionId, String site, ReplicationStatus expected) {
        return await().atMost(REPLICATION_DEADLINE.multipliedBy(3)).pollInterval(Duration.ofMillis(100))
                .until(() -> status(bucket, key, versionId).map(v -> v.sites().get(site)).orElse(null),
                        o -> o != null && o.status() == expected);
    }

    /** Removes a destination bucket and everything in it, if it exists: a site whose bucket is gone fails every version. */
    void removeDestinationBucket(String bucket) {
        try {
            var listing = destination.listObjectVersions(r -> r.bucket(bucket));
            listing.versions().forEach(v -> destination.deleteObject(r -> r.bucket(bucket).key(v.key()).versionId(v.versionId())));
            listing.deleteMarkers().forEach(v -> destination.deleteObject(r -> r.bucket(bucket).key(v.key()).versionId(v.versionId())));
            destination.deleteBucket(r -> r.bucket(bucket));
        } catch (S3Exception e) {
            if (e.statusCode() != 404) {
                throw e;
            }
        }
    }

    void createDestinationBucket(String bucket) {
        destination.createBucket(r -> r.bucket(bucket));
        destination.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
    }

    /**
     * Four entries per key {@code k00000}.. in {@code bucket}, versions and delete markers interleaved: per key
     * {@code v, dm, v, dm}, {@code dm, dm, v, v}, {@code v, v, v, v}, or (one key in four) delete markers only. One step
     * of every key at a time, so a key's entries are far apart in time and their times order them.
     */
    void putInterleaved(String bucket, int keys) throws Exception {
        try (java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8)) {
            for (int step = 0; step < 4; step++) {
                java.util.List<java.util.concurrent.Future<?>> writes = new java.util.ArrayList<>();
                for (int i = 0; i < keys; i++) {
                    String key = String.format("k%05d", i);
                    boolean marker = switch (i % 4) {
                        case 0 -> step % 2 == 1;
                        case 1 -> step < 2;
                        case 2 -> false;
                        default -> true;
                    };
                    int n = step;
                    writes.add(pool.submit(() -> marker ? source.deleteObject(r -> r.bucket(bucket).key(key))
                            : source.putObject(r -> r.bucket(bucket).key(key), software.amazon.awssdk.core.sync.RequestBody.fromString(key + "/" + n))));
                }
                for (java.util.concurrent.Future<?> f : writes) {
                    f.get();
                }
            }
        }
    }

    static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }

    @Override
    public void close() {
        source.close();
        destination.close();
        dynamo.close();
    }
}
