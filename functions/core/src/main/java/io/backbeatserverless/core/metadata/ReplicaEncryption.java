package io.backbeatserverless.core.metadata;

/**
 * How the replicas at a site are encrypted (S3 Replication's rule for encrypted objects: a replica keeps its source's
 * type of encryption, and an SSE-KMS one is encrypted with the destination's {@code ReplicaKmsKeyID}).
 *
 * @param mode     {@code source} (the default): each replica as its source version, SSE-KMS with {@code kmsKeyId}, SSE-S3
 *                 by the site bucket's default ({@link #replicaMode}); {@code AES256} (SSE-S3) or {@code aws:kms} (SSE-KMS
 *                 with {@code kmsKeyId}) for every replica, whatever its source's
 * @param kmsKeyId the KMS key (ARN, or alias ARN) replicas are encrypted with under SSE-KMS; null: the site account's
 *                 AWS managed key ({@code aws/s3})
 */
public record ReplicaEncryption(String mode, String kmsKeyId) {
    public static final String SOURCE = "source";
    public static final String SSE_S3 = "AES256";
    public static final String SSE_KMS = "aws:kms";
    /** Each replica encrypted as its source version, SSE-KMS ones with the site account's AWS managed key. */
    public static final ReplicaEncryption AS_SOURCE = new ReplicaEncryption(null, null);

    public ReplicaEncryption {
        mode = mode == null ? SOURCE : mode;
        if (!java.util.Set.of(SOURCE, SSE_S3, SSE_KMS).contains(mode)) {
            throw new IllegalArgumentException("encryption.mode '" + mode + "' is not one of source, AES256, aws:kms");
        }
        if (SSE_S3.equals(mode) && kmsKeyId != null) {
            throw new IllegalArgumentException("encryption.kmsKeyId is set but encryption.mode is AES256 (SSE-S3 uses no KMS key)");
        }
    }

    /**
     * The encryption a replica of a version encrypted {@code sourceEncryption} is written with: {@code AES256} or
     * {@code aws:kms}; null leaves it to the site bucket's default. In {@code source} mode an SSE-S3 version is written
     * with no encryption header: SSE-S3 is every Amazon S3 bucket's default since 2023-01-05, and an S3-compatible site
     * without a KMS (MinIO's default, say) refuses any SSE header, so stating it would fail every replica there (S3
     * Replication itself writes SSE-S3 even into a bucket whose default is SSE-KMS; set {@code AES256} for that).
     */
    public String replicaMode(String sourceEncryption) {
        if (!SOURCE.equals(mode)) {
            return mode;
        }
        return sourceEncryption != null && sourceEncryption.startsWith("aws:kms") ? SSE_KMS : null;
    }

    /** The KMS key a replica of a version encrypted {@code sourceEncryption} is written with; null for none or the AWS managed key. */
    public String replicaKmsKeyId(String sourceEncryption) {
        return SSE_KMS.equals(replicaMode(sourceEncryption)) ? kmsKeyId : null;
    }
}
