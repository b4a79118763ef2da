package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.ReplicatorSettings;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbCopyProgressStore;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.retry.Retrier;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.transfer.CopyProgress;
import io.backbeatserverless.replicator.ReplicationErrors;
import io.backbeatserverless.replicator.ReplicationOutcome;
import io.backbeatserverless.replicator.S3SiteReplicator;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13: a multipart copy cut short by the invocation's deadline saves its progress after every part, and the next
 * invocation resumes after the last part done, never from scratch: the replicator against the stack's real S3 servers
 * and dynalite (the progress store), with a clock that the site's part uploads move on, so the deadline falls mid-copy.
 */
class ResumableCopyTest extends StackScenario {

    private static final int MIB = 1024 * 1024;

    @Test
    void aCopyStoppedByTheDeadlineResumesAfterItsLastPartAndUploadsNoPartTwice() throws Exception {
        String bucket = "resume-" + Long.toHexString(System.nanoTime());
        stack.source.createBucket(r -> r.bucket(bucket));
        stack.source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        byte[] body = StackClients.randomBytes(80 * MIB); // 5 parts of 16 MiB
        String version = stack.source.putObject(r -> r.bucket(bucket).key("big.bin"), RequestBody.fromBytes(body)).versionId();

        AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-28T12:00:00Z"));
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
        AtomicInteger partsUploaded = new AtomicInteger();
        ExecutionInterceptor eachPartTakesFourSeconds = new ExecutionInterceptor() {
            @Override
            public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof UploadPartRequest) {
                    partsUploaded.incrementAndGet();
                    now.updateAndGet(t -> t.plusSeconds(4));
                }
            }
        };
        SiteConfig site = stack.config.requireSite(SharedStack.AWS_LOCATION);
        DynamoDbCopyProgressStore progress = new DynamoDbCopyProgressStore(stack.dynamo, stack.config.dynamodb().tables().checkpoints());
        try (S3Client destination = S3Client.builder().region(software.amazon.awssdk.regions.Region.of(site.endpoint().region()))
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(site.endpoint().accessKeyId(), site.endpoint().secretAccessKey())))
                .endpointOverride(site.endpoint().uri()).forcePathStyle(true)
                .overrideConfiguration(c -> c.addExecutionInterceptor(eachPartTakesFourSeconds))
                .build()) {
            // One part at a time, so the deadline check between parts is exact.
            ReplicatorSettings oneAtATime = new ReplicatorSettings(0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
            S3SiteReplicator replicator = new S3SiteReplicator(site, stack.source, destination, oneAtATime,
                    Retrier.standard(oneAtATime.retryPolicy(), Clock.systemUTC(), ReplicationErrors::isRetryable), v -> v, progress, clock);
            ReplicationEntry entry = entryFor(bucket, "big.bin", version, body.length);

            // 10 s left: part 1 (clock +4 s), part 2 (+4 s); the third could not end before the deadline.
            ReplicationOutcome first = replicator.replicate(entry, now.get().plusSeconds(10));
            assertThat(first.isDeferred()).as(first.toString()).isTrue();
            assertThat(first.reason()).isEqualTo("copy in progress: 2 of 5 parts done, resumes next invocation");
            assertThat(partsUploaded).hasValue(2);
            CopyProgress saved = progress.find(SharedStack.AWS_LOCATION, bucket, "big.bin").orElseThrow();
            assertThat(saved.parts()).extracting(CopyProgress.Part::number).containsExactly(1, 2);
            assertThat(progress.inProgress(SharedStack.AWS_LOCATION, bucket, List.of("big.bin", "other.bin", "big.bin")))
                    .as("what a batch asks before replicating later versions of its keys").containsExactly("big.bin");
            assertThat(destination.listMultipartUploads(r -> r.bucket(site.bucket()).prefix(bucket + "/")).uploads())
                    .as("the upload is kept for the next invocation").singleElement()
                    .satisfies(u -> assertThat(u.uploadId()).isEqualTo(saved.uploadId()));

            ReplicationOutcome second = replicator.replicate(entry, now.get().plusSeconds(600));
            assertThat(second.status()).as(second.toString()).isEqualTo(ReplicationStatus.COMPLETED);
            assertThat(partsUploaded).as("parts 3 to 5 only: none uploaded twice").hasValue(5);
        }
        byte[] replica = stack.destination.getObjectAsBytes(r -> r.bucket("dest-bucket").key(bucket + "/big.bin")).asByteArray();
        assertThat(MessageDigest.getInstance("MD5").digest(replica)).isEqualTo(MessageDigest.getInstance("MD5").digest(body));
        assertThat(progress.find(SharedStack.AWS_LOCATION, bucket, "big.bin")).as("progress removed once complete").isEmpty();
        assertThat(stack.destination.listMultipartUploads(r -> r.bucket("dest-bucket").prefix(bucket + "/")).uploads())
                .as("no upload left at the site").isEmpty();
    }

    /**
     * A version whose copy is in progress and then ends otherwise (here: deleted at the source, so SKIPPED) leaves no
     * progress and no upload behind: its key's later versions, which wait behind a copy in progress, would wait forever.
     */
    @Test
    void aCopyInProgressWhoseVersionIsThenGoneLeavesNoProgressAndNoUpload() throws Exception {
        String bucket = "resume-gone-" + Long.toHexString(System.nanoTime());
        stack.source.createBucket(r -> r.bucket(bucket));
        stack.source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        byte[] body = StackClients.randomBytes(48 * MIB); // 3 parts
        String version = stack.source.putObject(r -> r.bucket(bucket).key("gone.bin"), RequestBody.fromBytes(body)).versionId();
        SiteConfig site = stack.config.requireSite(SharedStack.AWS_LOCATION);
        DynamoDbCopyProgressStore progress = new DynamoDbCopyProgressStore(stack.dynamo, stack.config.dynamodb().tables().checkpoints());
        ReplicatorSettings oneAtATime = new ReplicatorSettings(0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
        try (S3Client destination = AwsClients.s3(site.endpoint(), 2, false)) {
            S3SiteReplicator replicator = new S3SiteReplicator(site, stack.source, destination, oneAtATime,
                    Retrier.standard(oneAtATime.retryPolicy(), Clock.systemUTC(), ReplicationErrors::isRetryable), v -> v, progress,
                    Clock.systemUTC());
            ReplicationEntry entry = entryFor(bucket, "gone.bin", version, body.length);
            // A deadline already past: the upload is created and saved, no part is started.
            ReplicationOutcome first = replicator.replicate(entry, Instant.now().minusSeconds(1));
            assertThat(first.isDeferred()).as(first.toString()).isTrue();
            assertThat(progress.find(SharedStack.AWS_LOCATION, bucket, "gone.bin")).isPresent();

            stack.source.deleteObject(r -> r.bucket(bucket).key("gone.bin").versionId(version));
            ReplicationOutcome second = replicator.replicate(entry, Instant.now().plusSeconds(600));
            assertThat(second.status()).as(second.toString()).isEqualTo(ReplicationStatus.SKIPPED);
        }
        assertThat(progress.find(SharedStack.AWS_LOCATION, bucket, "gone.bin")).as("no copy in progress any more").isEmpty();
        assertThat(stack.destination.listMultipartUploads(r -> r.bucket("dest-bucket").prefix(bucket + "/")).uploads())
                .as("its upload aborted").isEmpty();
    }

    /**
     * Issue 28 #3: a key's hold (entries of it put back at a deadline, the last of them named) is kept in DynamoDB beside
     * the key's copy in progress, not in its place: each is read, written and removed alone.
     */
    @Test
    void aHoldIsKeptBesideTheKeysCopyInProgress() {
        String bucket = "resume-hold-" + Long.toHexString(System.nanoTime());
        DynamoDbCopyProgressStore progress = new DynamoDbCopyProgressStore(stack.dynamo, stack.config.dynamodb().tables().checkpoints());
        Instant now = Instant.now();
        progress.saveHold(CopyProgress.hold(SharedStack.AWS_LOCATION, bucket, "held.bin", "v3", now, now.plusSeconds(3600)));
        progress.save(new CopyProgress(SharedStack.AWS_LOCATION, bucket, "held.bin", "v1", "etag", "upload-1", "dest", "k",
                List.of(new CopyProgress.Part(1, "\"p1\"", "00")), now, now.plusSeconds(600)));

        assertThat(progress.holds(SharedStack.AWS_LOCATION, bucket, List.of("held.bin", "other.bin"))).hasEntrySatisfying("held.bin", h -> {
            assertThat(h.isHold()).isTrue();
            assertThat(h.versionId()).isEqualTo("v3");
            assertThat(h.expiresAt()).isEqualTo(now.plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        }).hasSize(1);
        assertThat(progress.find(SharedStack.AWS_LOCATION, bucket, "held.bin")).hasValueSatisfying(p -> {
            assertThat(p.versionId()).isEqualTo("v1");
            assertThat(p.parts()).hasSize(1);
        });

        progress.removeHold(SharedStack.AWS_LOCATION, bucket, "held.bin");
        assertThat(progress.holds(SharedStack.AWS_LOCATION, bucket, List.of("held.bin"))).isEmpty();
        assertThat(progress.inProgress(SharedStack.AWS_LOCATION, bucket, List.of("held.bin"))).containsExactly("held.bin");
        progress.remove(SharedStack.AWS_LOCATION, bucket, "held.bin");
    }

    private static ReplicationEntry entryFor(String bucket, String key, String versionId, long size) {
        ObjectMetadata metadata = ObjectMetadata.builder(key, versionId).contentLength(size).lastModified(Instant.now().toString())
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                        List.of(new ObjectMetadata.Backend(SharedStack.AWS_LOCATION, ReplicationStatus.PENDING, "")),
                        List.of("DATA", "METADATA"), "arn:aws:s3:::" + bucket, SharedStack.AWS_LOCATION, StackClients.ROLE))
                .build();
        return new ReplicationEntry("put", bucket, new VersionKey(key, versionId), metadata, null);
    }
}
