package io.backbeatserverless.replicator;

import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

import io.backbeatserverless.core.metadata.ObjectLock;

import java.time.Instant;
import java.util.Map;

/**
 * What the source says of a version (from GET or HEAD): what a replica must carry besides the bytes.
 *
 * @param lock       its Object Lock state (S3 answers it on GET and HEAD to a caller allowed s3:GetObjectRetention and
 *                   s3:GetObjectLegalHold, and leaves it out, silently, for one that is not: the replicator's role has both)
 * @param encryption how the source encrypts it: {@code AES256}, {@code aws:kms}, {@code aws:kms:dsse}; null when not said
 * @param kmsKeyId   the KMS key of an {@code aws:kms} version, as the source names it
 */
record SourceObject(long contentLength, String eTag, String contentType, String cacheControl,
                    String contentDisposition, String contentEncoding, String contentLanguage, Instant expires,
                    Map<String, String> metadata, Integer tagCount, ObjectLock lock, String encryption, String kmsKeyId) {

    static SourceObject of(GetObjectResponse r) {
        return new SourceObject(r.contentLength(), unquote(r.eTag()), r.contentType(), r.cacheControl(), r.contentDisposition(),
                r.contentEncoding(), r.contentLanguage(), r.expires(), r.metadata(), r.tagCount(),
                new ObjectLock(r.objectLockModeAsString(), r.objectLockRetainUntilDate(), r.objectLockLegalHoldStatusAsString()),
                r.serverSideEncryptionAsString(), r.ssekmsKeyId());
    }

    static SourceObject of(HeadObjectResponse r) {
        return new SourceObject(r.contentLength(), unquote(r.eTag()), r.contentType(), r.cacheControl(), r.contentDisposition(),
                r.contentEncoding(), r.contentLanguage(), r.expires(), r.metadata(), null,
                new ObjectLock(r.objectLockModeAsString(), r.objectLockRetainUntilDate(), r.objectLockLegalHoldStatusAsString()),
                r.serverSideEncryptionAsString(), r.ssekmsKeyId());
    }

    /** Encrypted with a KMS key (SSE-KMS, DSSE-KMS): S3's ETag of such a version is not the MD5 of its bytes. */
    boolean kmsEncrypted() {
        return encryption != null && encryption.startsWith("aws:kms");
    }

    boolean isReplica() {
        return "REPLICA".equalsIgnoreCase(metadata.get(S3SiteReplicator.REPLICA_STATUS_META));
    }

    /**
     * A single-part upload's ETag is the MD5 of its bytes; a multipart one's ends with "-<parts>", and an SSE-KMS one's is
     * not an MD5 either (S3 API reference, the Object type's ETag: objects "encrypted by SSE-C or SSE-KMS, have ETags that
     * are not an MD5 digest of their object data").
     */
    boolean eTagIsMd5() {
        return eTag != null && eTag.length() == 32 && !eTag.contains("-") && !kmsEncrypted();
    }

    static String unquote(String eTag) {
        return eTag == null ? null : eTag.replace("\"", "");
    }
}
