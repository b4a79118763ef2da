package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.retry.Retrier;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.replicator.ReplicationErrors;
import io.backbeatserverless.replicator.ReplicationOutcome;
import io.backbeatserverless.replicator.S3SiteReplicator;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ObjectLockLegalHoldStatus;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 30: what S3 Replication users expect of a replica, on the stack's S3 servers, which keep S3's Object Lock and
 * encryption as AWS documents them (LocalS3LockAndEncryption): a version's retention and legal hold travel with it, and
 * later changes of them are applied in place; a site bucket without Object Lock fails such a version with S3
 * Replication's reason; an SSE-KMS version is encrypted at the site with the site's key, an SSE-S3 one stays SSE-S3; an
 * SSE-C one is skipped with the reason. The replicator as the functions build it (S3SiteReplicator), per version.
 */
class ObjectLockAndEncryptionTest extends StackScenario {

    private static final String SOURCE_KEY = "arn:aws:kms:us-east-1:111122223333:key/source-key";
    private static final String SITE_KEY = "arn:aws:kms:us-west-2:444455556666:key/site-key";

    @Test
    void aVersionsRetentionLegalHoldAndEncryptionTravelWithItsReplica() throws Exception {
        String bucket = lockedPair("lock", true);
        Instant until = Instant.now().plus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        String locked = stack.source.putObject(r -> r.bucket(bucket).key("locked").objectLockMode(ObjectLockMode.GOVERNANCE)
                .objectLockRetainUntilDate(until).objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON)
                .serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(SOURCE_KEY).checksumAlgorithm(ChecksumAlgorithm.CRC32),
                RequestBody.fromString("kept for a day")).versionId();
        String plain = stack.source.putObject(r -> r.bucket(bucket).key("plain"), RequestBody.fromString("plain")).versionId();

        try (S3Client destination = siteClient()) {
            S3SiteReplicator replicator = replicator(bucket + "-dest", destination, new io.backbeatserverless.core.metadata.ReplicaEncryption(null, SITE_KEY));
            assertThat(replicator.replicate(entryFor(bucket, "locked", locked, 14, List.of("DATA", "METADATA"))).status())
                    .isEqualTo(ReplicationStatus.COMPLETED);
            assertThat(replicator.replicate(entryFor(bucket, "plain", plain, 5, List.of("DATA", "METADATA"))).status())
                    .isEqualTo(ReplicationStatus.COMPLETED);
        }

        HeadObjectResponse replica = stack.destination.headObject(r -> r.bucket(bucket + "-dest").key("locked"));
        assertThat(replica.objectLockMode()).isEqualTo(ObjectLockMode.GOVERNANCE);
        assertThat(replica.objectLockRetainUntilDate()).isEqualTo(until);
        assertThat(replica.objectLockLegalHoldStatus()).isEqualTo(ObjectLockLegalHoldStatus.ON);
        assertThat(replica.serverSideEncryption()).isEqualTo(ServerSideEncryption.AWS_KMS);
        assertThat(replica.ssekmsKeyId()).as("the site's key, not the source's").isEqualTo(SITE_KEY);
        HeadObjectResponse plainReplica = stack.destination.headObject(r -> r.bucket(bucket + "-dest").key("plain"));
        assertThat(plainReplica.serverSideEncryption()).isEqualTo(ServerSideEncryption.AES256);
        assertThat(plainReplica.objectLockMode()).isNull();
        assertThat(plainReplica.objectLockLegalHoldStatus()).isNull();
        // The replica is protected as the source is: its version cannot be deleted.
        assertThatThrownBy(() -> stack.destination.deleteObject(r -> r.bucket(bucket + "-dest").key("locked").versionId(replica.versionId())))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(403));
    }

    /** The multipart path (CreateMultipartUpload) carries the lock and the encryption as the single PUT does. */
    @Test
    void aVersionCopiedInPartsKeepsItsLockAndTakesTheSitesKey() throws Exception {
        String bucket = lockedPair("parts", true);
        Instant until = Instant.now().plus(3, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        byte[] body = StackClients.randomBytes(3 * 1024 * 1024 / 2);
        String version = stack.source.putObject(r -> r.bucket(bucket).key("large").objectLockMode(ObjectLockMode.COMPLIANCE)
                .objectLockRetainUntilDate(until).checksumAlgorithm(ChecksumAlgorithm.CRC32), RequestBody.fromBytes(body)).versionId();
        // Past a 1 MiB threshold the replicator copies in parts (ReplicaDecision's COPY_IN_PARTS).
        var inParts = new io.backbeatserverless.adapters.config.ReplicatorSettings(1024 * 1024, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        try (S3Client destination = siteClient()) {
            ReplicationOutcome outcome = replicator(bucket + "-dest", destination, new io.backbeatserverless.core.metadata.ReplicaEncryption(
                    "aws:kms", SITE_KEY), inParts).replicate(entryFor(bucket, "large", version, body.length, List.of("DATA", "METADATA")));
            assertThat(outcome.status()).as(outcome.toString()).isEqualTo(ReplicationStatus.COMPLETED);
        }

        HeadObjectResponse replica = stack.destination.headObject(r -> r.bucket(bucket + "-dest").key("large"));
        assertThat(replica.objectLockMode()).isEqualTo(ObjectLockMode.COMPLIANCE);
        assertThat(replica.objectLockRetainUntilDate()).isEqualTo(until);
        assertThat(replica.serverSideEncryption()).as("the site's mode, whatever the source's").isEqualTo(ServerSideEncryption.AWS_KMS);
        assertThat(replica.ssekmsKeyId()).isEqualTo(SITE_KEY);
    }

    @Test
    void aLockedVersionToASiteBucketWithoutObjectLockFailsWithTheReasonAndIsNotCopied() throws Exception {
        String bucket = lockedPair("no-lock", true, false);
        String locked = stack.source.putObject(r -> r.bucket(bucket).key("locked").objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON)
                .checksumAlgorithm(ChecksumAlgorithm.CRC32), RequestBody.fromString("on hold")).versionId();

        ReplicationOutcome outcome;
        try (S3Client destination = siteClient()) {
            outcome = replicator(bucket + "-dest", destination, null).replicate(entryFor(bucket, "locked", locked, 7, List.of("DATA", "METADATA")));
        }

        assertThat(outcome.status()).as(outcome.toString()).isEqualTo(ReplicationStatus.FAILED);
        assertThat(outcome.reason()).startsWith("DstBucketObjectLockConfigMissing: site '" + SharedStack.AWS_LOCATION + "' bucket '" + bucket
                + "-dest' has no Object Lock, and the version has no retention, legal hold ON");
        assertThat(outcome.attempts()).as("not retried: no retry gives the bucket a lock").isEqualTo(1);
        assertThat(stack.destination.listObjectVersions(r -> r.bucket(bucket + "-dest")).versions()).as("not copied without its lock").isEmpty();
    }

    @Test
    void aLaterRetentionOrLegalHoldChangeIsAppliedToTheReplicaInPlace() throws Exception {
        String bucket = lockedPair("later", true);
        String version = stack.source.putObject(r -> r.bucket(bucket).key("k"), RequestBody.fromString("bytes")).versionId();
        try (S3Client destination = siteClient()) {
            S3SiteReplicator replicator = replicator(bucket + "-dest", destination, null);
            assertThat(replicator.replicate(entryFor(bucket, "k", version, 5, List.of("DATA", "METADATA"))).status()).isEqualTo(ReplicationStatus.COMPLETED);
            Instant until = Instant.now().plus(2, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
            stack.source.putObjectRetention(r -> r.bucket(bucket).key("k").versionId(version)
                    .retention(t -> t.mode(software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode.COMPLIANCE).retainUntilDate(until)));
            stack.source.putObjectLegalHold(r -> r.bucket(bucket).key("k").versionId(version).legalHold(h -> h.status(ObjectLockLegalHoldStatus.ON)));

            ReplicationOutcome changed = replicator.replicate(entryFor(bucket, "k", version, 5, List.of("METADATA")));

            assertThat(changed.status()).as(changed.toString()).isEqualTo(ReplicationStatus.COMPLETED);
            assertThat(changed.bytes()).as("a change never re-copies the bytes").isZero();
            HeadObjectResponse replica = stack.destination.headObject(r -> r.bucket(bucket + "-dest").key("k"));
            assertThat(replica.objectLockMode()).isEqualTo(ObjectLockMode.COMPLIANCE);
            assertThat(replica.objectLockRetainUntilDate()).isEqualTo(until);
            assertThat(replica.objectLockLegalHoldStatus()).isEqualTo(ObjectLockLegalHoldStatus.ON);
            assertThat(stack.destination.listObjectVersions(r -> r.bucket(bucket + "-dest")).versions()).hasSize(1);

            stack.source.putObjectLegalHold(r -> r.bucket(bucket).key("k").versionId(version).legalHold(h -> h.status(ObjectLockLegalHoldStatus.OFF)));
            assertThat(replicator.replicate(entryFor(bucket, "k", version, 5, List.of("METADATA"))).status()).isEqualTo(ReplicationStatus.COMPLETED);
            assertThat(stack.destination.headObject(r -> r.bucket(bucket + "-dest").key("k")).objectLockLegalHoldStatus())
                    .isEqualTo(ObjectLockLegalHoldStatus.OFF);
        }
    }

    @Test
    void anSseCVersionIsSkippedWithTheReason() throws Exception {
        String bucket = lockedPair("sse-c", false);
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        String keyBase64 = Base64.getEncoder().encodeToString(key);
        String keyMd5 = Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(key));
        String version = stack.source.putObject(r -> r.bucket(bucket).key("secret").sseCustomerAlgorithm("AES256").sseCustomerKey(keyBase64)
                .sseCustomerKeyMD5(keyMd5), RequestBody.fromString("customer-encrypted")).versionId();

        ReplicationOutcome outcome;
        try (S3Client destination = siteClient()) {
            outcome = replicator(bucket + "-dest", destination, null).replicate(entryFor(bucket, "secret", version, 18, List.of("DATA", "METADATA")));
        }

        assertThat(outcome.status()).as(outcome.toString()).isEqualTo(ReplicationStatus.SKIPPED);
        assertThat(outcome.reason()).startsWith("the source version is encrypted with a customer-provided key (SSE-C)");
        assertThat(stack.destination.listObjectVersions(r -> r.bucket(bucket + "-dest")).versions()).isEmpty();
    }

    @Test
    void theStacksServerRefusesWhatS3Refuses() {
        String bucket = lockedPair("refusals", false);
        assertThatThrownBy(() -> stack.source.putObject(r -> r.bucket(bucket).key("k").objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON)
                .checksumAlgorithm(ChecksumAlgorithm.CRC32), RequestBody.fromString("x")))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("Bucket is missing ObjectLockConfiguration"));
        String locked = lockedPair("refusals-locked", true);
        // PutObject with a lock and neither Content-MD5 nor a checksum: S3 refuses it (the replicator asks for a checksum then).
        try (S3Client noChecksums = AwsClients.s3(stack.config.source().endpoint(), 2, false)) {
            assertThatThrownBy(() -> noChecksums.putObject(r -> r.bucket(locked).key("k").objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON),
                    RequestBody.fromString("x"))).isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(400));
        }
    }

    /**
     * Verify reads a replica's lock and encryption (issue 30): a legal hold lifted at the site, a retention the replica
     * lacks, and replicas encrypted with another KMS key than the site's configuration names are each reported, with
     * what differs. The listings carry neither: a deep run (or the sample) reads them.
     */
    @Test
    void verifyReportsALockOrAnEncryptionThatDriftedAtTheSite() throws Exception {
        String bucket = lockedPair("drift", true);
        String siteBucket = bucket + "-dest";
        Instant until = Instant.now().plus(1, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        String held = stack.source.putObject(r -> r.bucket(bucket).key("held").objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON)
                .checksumAlgorithm(ChecksumAlgorithm.CRC32), RequestBody.fromString("held")).versionId();
        String retained = stack.source.putObject(r -> r.bucket(bucket).key("retained"), RequestBody.fromString("retained")).versionId();
        String encrypted = stack.source.putObject(r -> r.bucket(bucket).key("encrypted").serverSideEncryption(ServerSideEncryption.AWS_KMS)
                .ssekmsKeyId(SOURCE_KEY), RequestBody.fromString("encrypted")).versionId();
        var encryption = new io.backbeatserverless.core.metadata.ReplicaEncryption(null, SITE_KEY);
        try (S3Client destination = siteClient()) {
            S3SiteReplicator replicator = replicator(siteBucket, destination, encryption);
            for (var version : List.of(List.of("held", held, "4"), List.of("retained", retained, "8"), List.of("encrypted", encrypted, "9"))) {
                assertThat(replicator.replicate(entryFor(bucket, version.get(0), version.get(1), Long.parseLong(version.get(2)),
                        List.of("DATA", "METADATA"))).status()).isEqualTo(ReplicationStatus.COMPLETED);
            }
        }
        String rules = """
                {"Role":"arn:aws:iam::root:role/r","Rules":[{"ID":"all","Status":"Enabled","Prefix":"",
                 "Destination":{"Bucket":"arn:aws:s3:::%s","StorageClass":"aws-location"}}]}""".formatted(siteBucket);
        // The same configuration, but the site's key is now another: every SSE-KMS replica should be under it.
        SiteConfig rotated = site(siteBucket, new io.backbeatserverless.core.metadata.ReplicaEncryption(null, SITE_KEY + "-rotated"));
        VerifyInThisJvm verify = VerifyInThisJvm.of(stack, stack.config.withSites(s -> s.name().equals(SharedStack.AWS_LOCATION) ? rotated : s),
                bucket, java.util.Map.of(bucket, rules));
        stack.source.putObjectRetention(r -> r.bucket(bucket).key("retained").versionId(retained)
                .retention(t -> t.mode(software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode.GOVERNANCE).retainUntilDate(until)));
        stack.destination.putObjectLegalHold(r -> r.bucket(siteBucket).key("held").legalHold(h -> h.status(ObjectLockLegalHoldStatus.OFF)));

        assertThat(verify.findings(bucket, SharedStack.AWS_LOCATION, true))
                .extracting(f -> f.key() + " " + f.kind() + " " + f.detail())
                .containsExactlyInAnyOrder(
                        "held DIVERGENT legal hold: 'ON' at the source, absent at the site",
                        "retained DIVERGENT retention mode: 'GOVERNANCE' at the source, absent at the site; retain-until date: '" + until
                                + "' at the source, absent at the site",
                        "encrypted DIVERGENT KMS key: '" + SITE_KEY + "-rotated' expected at the site, '" + SITE_KEY + "' there");
    }

    /** A versioned source bucket and its site bucket ({@code <bucket>-dest}), both with Object Lock or both without. */
    private static String lockedPair(String prefix, boolean objectLock) {
        return lockedPair(prefix, objectLock, objectLock);
    }

    private static String lockedPair(String prefix, boolean sourceLock, boolean objectLock) {
        String bucket = prefix + "-" + Long.toHexString(System.nanoTime());
        stack.source.createBucket(r -> r.bucket(bucket).objectLockEnabledForBucket(sourceLock ? Boolean.TRUE : null));
        stack.source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        stack.destination.createBucket(r -> r.bucket(bucket + "-dest").objectLockEnabledForBucket(objectLock ? Boolean.TRUE : null));
        stack.destination.putBucketVersioning(r -> r.bucket(bucket + "-dest").versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        return bucket;
    }

    private static S3Client siteClient() {
        return AwsClients.s3(stack.config.requireSite(SharedStack.AWS_LOCATION).endpoint(), 4, false);
    }

    private static SiteConfig site(String siteBucket, io.backbeatserverless.core.metadata.ReplicaEncryption encryption) {
        return new SiteConfig(SharedStack.AWS_LOCATION, SiteConfig.TYPE_AWS_S3, stack.config.requireSite(SharedStack.AWS_LOCATION).endpoint(),
                siteBucket, true, null, false, null, null, encryption);
    }

    private static S3SiteReplicator replicator(String siteBucket, S3Client destination, io.backbeatserverless.core.metadata.ReplicaEncryption encryption) {
        return replicator(siteBucket, destination, encryption, stack.config.replicator());
    }

    private static S3SiteReplicator replicator(String siteBucket, S3Client destination, io.backbeatserverless.core.metadata.ReplicaEncryption encryption,
                                               io.backbeatserverless.adapters.config.ReplicatorSettings settings) {
        SiteConfig site = site(siteBucket, encryption);
        return new S3SiteReplicator(site, stack.source, destination, settings,
                Retrier.standard(settings.retryPolicy(), Clock.systemUTC(), ReplicationErrors::isRetryable), v -> v);
    }

    private static ReplicationEntry entryFor(String bucket, String key, String versionId, long size, List<String> content) {
        ObjectMetadata metadata = ObjectMetadata.builder(key, versionId).contentLength(size).lastModified(Instant.now().toString())
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                        List.of(new ObjectMetadata.Backend(SharedStack.AWS_LOCATION, ReplicationStatus.PENDING, "")),
                        content, "arn:aws:s3:::" + bucket, SharedStack.AWS_LOCATION, StackClients.ROLE))
                .build();
        return new ReplicationEntry("put", bucket, new VersionKey(key, versionId), metadata, null);
    }
}
