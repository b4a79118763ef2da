package io.backbeatserverless.replicator;

import io.backbeatserverless.core.metadata.ObjectLock;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.metadata.ReplicaEncryption;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

import java.time.Instant;

/**
 * What a replica is written with of its source version's protection: its Object Lock and its encryption. The one place
 * that decides both, for every way a replica is written (PutObject, CreateMultipartUpload, CopyObject).
 * <ul>
 *   <li>Object Lock as S3 Replication replicates it ("What is replicated": "S3 Object Lock retention information, if
 *       there is any"): the retention mode and date while still in force (S3 refuses a retain-until date in the past),
 *       and a legal hold ON. A site bucket without Object Lock refuses them (400 InvalidRequest "Bucket is missing
 *       ObjectLockConfiguration"): the version FAILS with that reason, never copied without its lock. A PutObject
 *       with a retention needs Content-MD5 or a checksum (PutObject API: "The Content-MD5 or
 *       x-amz-sdk-checksum-algorithm header is required for any request to upload an object with a retention period
 *       configured using Amazon S3 Object Lock"), which the clients here send only where an API requires one: given
 *       then ({@link #applyTo(PutObjectRequest.Builder, String)}).</li>
 *   <li>Encryption as the site's {@link ReplicaEncryption} says: by default the source's type (SSE-S3 stays SSE-S3,
 *       SSE-KMS is written with the site's KMS key), as S3 Replication does ("Replicating encrypted objects").</li>
 * </ul>
 *
 * @param lock       the lock the replica gets (nothing of it when the source has none in force)
 * @param encryption {@code AES256}, {@code aws:kms}, or null for the site bucket's default
 * @param kmsKeyId   with {@code aws:kms}: the site's key; null for its AWS managed key
 */
record ReplicaProtection(ObjectLock lock, String encryption, String kmsKeyId) {

    static ReplicaProtection of(SourceObject source, SiteConfig site, Instant now) {
        ObjectLock lock = source.lock().inForce(now);
        ReplicaEncryption config = site.encryption(); // never null: SiteConfig defaults it
        return new ReplicaProtection(lock, config.replicaMode(source.encryption()), config.replicaKmsKeyId(source.encryption()));
    }

    /** Whether the replica's ETag is not the MD5 of its bytes (SSE-KMS), so that the site's answer cannot be checked by it. */
    boolean eTagNotMd5() {
        return ReplicaEncryption.SSE_KMS.equals(encryption);
    }

    /**
     * @param contentMd5 the base64 MD5 of the body, when known before it is sent: a PutObject with a lock carries it
     *                   (Content-MD5, which every S3 takes; moto, the as-deployed suite's emulator, takes a checksum only
     *                   with {@code x-amz-sdk-checksum-algorithm}, which the SDK leaves out of an unsigned-trailer-less
     *                   request: found by that suite); else a CRC32 checksum, which S3 takes as well
     */
    PutObjectRequest.Builder applyTo(PutObjectRequest.Builder put, String contentMd5) {
        put.objectLockMode(lock.mode()).objectLockRetainUntilDate(lock.retainUntil()).objectLockLegalHoldStatus(lock.legalHold())
                .serverSideEncryption(encryption).ssekmsKeyId(kmsKeyId);
        if (!lock.isNone()) {
            if (contentMd5 != null) {
                put.contentMD5(contentMd5);
            } else {
                put.checksumAlgorithm(ChecksumAlgorithm.CRC32);
            }
        }
        return put;
    }

    CreateMultipartUploadRequest.Builder applyTo(CreateMultipartUploadRequest.Builder create) {
        return create.objectLockMode(lock.mode()).objectLockRetainUntilDate(lock.retainUntil()).objectLockLegalHoldStatus(lock.legalHold())
                .serverSideEncryption(encryption).ssekmsKeyId(kmsKeyId);
    }

    CopyObjectRequest.Builder applyTo(CopyObjectRequest.Builder copy) {
        return copy.objectLockMode(lock.mode()).objectLockRetainUntilDate(lock.retainUntil()).objectLockLegalHoldStatus(lock.legalHold())
                .serverSideEncryption(encryption).ssekmsKeyId(kmsKeyId);
    }
}
