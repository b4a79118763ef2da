package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbCopyProgressStore;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.retry.Retrier;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.replicator.ReplicationErrors;
import io.backbeatserverless.replicator.ReplicationOutcome;
import io.backbeatserverless.replicator.S3SiteReplicator;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.Tag;

import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13: a site on the source's own S3 service gets its copies from the service itself (CopyObject, UploadPartCopy
 * of the exact source version), so no byte passes through the replicator; the replica carries what a streamed copy
 * carries (content headers, user metadata, the replica markers, tags). Against the stack's real S3 server, which plays
 * "the same service" for source and site (a destination bucket on the source's server).
 */
class ServerSideCopyTest extends StackScenario {

    private static final long MIB = 1024 * 1024;

    @Test
    void aSiteOnTheSourcesOwnServiceCopiesServerSideAndNoByteGoesThroughTheReplicator() throws Exception {
        String run = Long.toHexString(System.nanoTime());
        String bucket = "ssc-" + run;
        String destinationBucket = "ssc-dest-" + run;
        for (String b : List.of(bucket, destinationBucket)) {
            stack.source.createBucket(r -> r.bucket(b));
            stack.source.putBucketVersioning(r -> r.bucket(b).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        }
        byte[] small = StackClients.randomBytes(200 * 1024);
        String smallVersion = stack.source.putObject(r -> r.bucket(bucket).key("small.bin").contentType("image/png")
                .cacheControl("max-age=60").contentDisposition("attachment; filename=\"s.png\"").contentLanguage("fr")
                .metadata(Map.of("color", "blue")).tagging("team=storage&tier=gold"), RequestBody.fromBytes(small)).versionId();
        long bigSize = 256 * MIB; // 16 parts of 16 MiB, copied by the service
        String bigVersion = stack.source.putObject(r -> r.bucket(bucket).key("big.bin").tagging("size=big"),
                RequestBody.fromContentProvider(() -> seeded(bigSize), bigSize, "application/octet-stream")).versionId();

        SiteConfig site = new SiteConfig("same-service", SiteConfig.TYPE_AWS_S3, stack.config.source().endpoint(), destinationBucket, true);
        assertThat(site.copiesServerSideFrom(stack.config.source().endpoint())).as("the default for a site on the source's service").isTrue();
        AtomicInteger sourceReads = new AtomicInteger();
        ExecutionInterceptor countReads = new ExecutionInterceptor() {
            @Override
            public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof GetObjectRequest) {
                    sourceReads.incrementAndGet();
                }
            }
        };
        var endpoint = stack.config.source().endpoint();
        try (S3Client countedSource = S3Client.builder().region(Region.of(endpoint.region()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(endpoint.accessKeyId(), endpoint.secretAccessKey())))
                .endpointOverride(endpoint.uri()).forcePathStyle(true)
                .overrideConfiguration(c -> c.addExecutionInterceptor(countReads)).build();
             S3Client destination = AwsClients.s3(endpoint, 8, false)) {
            var settings = stack.config.replicator();
            S3SiteReplicator replicator = new S3SiteReplicator(site, countedSource, destination, settings,
                    Retrier.standard(settings.retryPolicy(), Clock.systemUTC(), ReplicationErrors::isRetryable), v -> v,
                    new DynamoDbCopyProgressStore(stack.dynamo, stack.config.dynamodb().tables().checkpoints()), Clock.systemUTC(), true);

            ReplicationOutcome smallCopied = replicator.replicate(entryFor(bucket, "small.bin", smallVersion, small.length), null);
            ReplicationOutcome bigCopied = replicator.replicate(entryFor(bucket, "big.bin", bigVersion, bigSize), Instant.now().plusSeconds(600));

            assertThat(smallCopied.status()).as(smallCopied.toString()).isEqualTo(ReplicationStatus.COMPLETED);
            assertThat(bigCopied.status()).as(bigCopied.toString()).isEqualTo(ReplicationStatus.COMPLETED);
            assertThat(sourceReads).as("GETs of object data from the source").hasValue(0);
            assertThat(replicator.bytesReadFromSource()).isZero();
        }

        byte[] smallReplica = stack.source.getObjectAsBytes(r -> r.bucket(destinationBucket).key("small.bin")).asByteArray();
        assertThat(smallReplica).isEqualTo(small);
        HeadObjectResponse smallHead = stack.source.headObject(r -> r.bucket(destinationBucket).key("small.bin"));
        assertThat(smallHead.contentType()).isEqualTo("image/png");
        assertThat(smallHead.cacheControl()).isEqualTo("max-age=60");
        assertThat(smallHead.contentDisposition()).isEqualTo("attachment; filename=\"s.png\"");
        assertThat(smallHead.contentLanguage()).isEqualTo("fr");
        assertThat(smallHead.metadata()).containsEntry("color", "blue")
                .containsEntry(S3SiteReplicator.REPLICA_STATUS_META, "REPLICA").containsEntry(S3SiteReplicator.SOURCE_VERSION_META, smallVersion);
        assertThat(stack.source.getObjectTagging(r -> r.bucket(destinationBucket).key("small.bin")).tagSet())
                .extracting(Tag::key, Tag::value).containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("team", "storage"), org.assertj.core.groups.Tuple.tuple("tier", "gold"));

        MessageDigest replicaMd5 = MessageDigest.getInstance("MD5");
        try (InputStream replica = new DigestInputStream(stack.source.getObject(r -> r.bucket(destinationBucket).key("big.bin")), replicaMd5)) {
            replica.transferTo(java.io.OutputStream.nullOutputStream());
        }
        MessageDigest sourceMd5 = MessageDigest.getInstance("MD5");
        try (InputStream original = new DigestInputStream(seeded(bigSize), sourceMd5)) {
            original.transferTo(java.io.OutputStream.nullOutputStream());
        }
        assertThat(HexFormat.of().formatHex(replicaMd5.digest())).as("the 256 MiB replica's MD5").isEqualTo(HexFormat.of().formatHex(sourceMd5.digest()));
        assertThat(stack.source.headObject(r -> r.bucket(destinationBucket).key("big.bin")).metadata())
                .containsEntry(S3SiteReplicator.SOURCE_VERSION_META, bigVersion);
        assertThat(stack.source.getObjectTagging(r -> r.bucket(destinationBucket).key("big.bin")).tagSet())
                .extracting(Tag::key, Tag::value).containsExactly(org.assertj.core.groups.Tuple.tuple("size", "big"));
        assertThat(stack.source.listMultipartUploads(r -> r.bucket(destinationBucket)).uploads()).as("no upload left").isEmpty();
    }

    /** {@code length} pseudo-random bytes, the same for the same length: written once, read again to check the replica. */
    private static InputStream seeded(long length) {
        return new InputStream() {
            private final SplittableRandom random = new SplittableRandom(length);
            private long left = length;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                for (int i = 0; i < n; i++) {
                    b[off + i] = (byte) random.nextInt(256);
                }
                left -= n;
                return n;
            }
        };
    }

    private static ReplicationEntry entryFor(String bucket, String key, String versionId, long size) {
        ObjectMetadata metadata = ObjectMetadata.builder(key, versionId).contentLength(size).lastModified(Instant.now().toString())
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                        List.of(new ObjectMetadata.Backend("same-service", ReplicationStatus.PENDING, "")),
                        List.of("DATA", "METADATA"), "arn:aws:s3:::" + bucket, "same-service", StackClients.ROLE))
                .build();
        return new ReplicationEntry("put", bucket, new VersionKey(key, versionId), metadata, null);
    }
}
