package io.backbeatserverless.adapters.config;

import io.backbeatserverless.core.metadata.ReplicaEncryption;
import io.backbeatserverless.core.ops.AutoRetrySchedule;

/**
 * A destination site (Backbeat's {@code bootstrapList} entry / CloudServer's replication endpoint).
 *
 * @param type        {@code aws_s3} for S3 and S3-compatible stores, {@code scality} for CloudServer / Zenko
 * @param bucket      fixed destination bucket of the site; null to use the rule's Destination.Bucket
 * @param bucketMatch true: the replica keeps the object key; false: it is stored as {@code <sourceBucket>/<key>}
 * @param verifyEtagMd5 whether the site's ETags are content MD5s (default true): the replicator then checks each ETag the
 *                    site answers against the MD5 of the bytes sent, and verify compares replicas' ETags with the
 *                    source's. Turn it off for a site that encrypts with SSE-KMS (its ETags are not MD5s).
 * @param external    the site's server is someone else's (your own CloudServer, say): the embedded stack starts no
 *                    server for its endpoint
 * @param serverSideCopy whether versions are copied by the site's service itself ({@code CopyObject},
 *                    {@code UploadPartCopy}), their bytes never passing through the replicator; null (the default): when
 *                    the site is the source's own service ({@link #copiesServerSideFrom})
 * @param deleteMarkerHeader whether the site's 404 for a key says {@code x-amz-delete-marker: true} when a delete marker
 *                    is its latest entry, as Amazon S3 does (and the local stack's S3 server): the replicator then tells
 *                    "no such key" from "a marker on top" by the HEAD alone, where a site that may not say so costs a
 *                    version listing for every new key (a LIST, priced as a PUT). Null (the default): true for Amazon
 *                    S3 (no endpoint URL), false for any other endpoint
 * @param encryption  how replicas are encrypted at the site ({@link ReplicaEncryption}); null: as the source encrypts each version
 * @param autoRetrySeconds the waits, in seconds from each failure, before a version FAILED here for a transient cause is
 *                    queued again on its own (issue 31); null: {@link AutoRetrySchedule#DEFAULT}; empty: never
 * @param maxBytesPerSecond the most bytes per second the replicators of this site, all together, send to it (issue 31); each
 *                    replicator instance takes its share ({@code BandwidthLimit}); null: no limit
 */
public record SiteConfig(String name, String type, Endpoint endpoint, String bucket, boolean bucketMatch, Boolean verifyEtagMd5,
                         boolean external, Boolean serverSideCopy, Boolean deleteMarkerHeader, ReplicaEncryption encryption,
                         java.util.List<Long> autoRetrySeconds, Long maxBytesPerSecond) {

    public SiteConfig(String name, String type, Endpoint endpoint, String bucket, boolean bucketMatch, Boolean verifyEtagMd5,
                      boolean external, Boolean serverSideCopy, Boolean deleteMarkerHeader, ReplicaEncryption encryption,
                      java.util.List<Long> autoRetrySeconds) {
        this(name, type, endpoint, bucket, bucketMatch, verifyEtagMd5, external, serverSideCopy, deleteMarkerHeader, encryption,
                autoRetrySeconds, null);
    }

    public SiteConfig(String name, String type, Endpoint endpoint, String bucket, boolean bucketMatch, Boolean verifyEtagMd5,
                      boolean external, Boolean serverSideCopy, Boolean deleteMarkerHeader, ReplicaEncryption encryption) {
        this(name, type, endpoint, bucket, bucketMatch, verifyEtagMd5, external, serverSideCopy, deleteMarkerHeader, encryption, null);
    }

    /** When a version FAILED here for a transient cause is queued again on its own. */
    public AutoRetrySchedule autoRetrySchedule() {
        return autoRetrySeconds == null ? AutoRetrySchedule.DEFAULT : AutoRetrySchedule.ofSeconds(autoRetrySeconds);
    }

    public SiteConfig(String name, String type, Endpoint endpoint, String bucket, boolean bucketMatch, Boolean verifyEtagMd5,
                      boolean external, Boolean serverSideCopy, Boolean deleteMarkerHeader) {
        this(name, type, endpoint, bucket, bucketMatch, verifyEtagMd5, external, serverSideCopy, deleteMarkerHeader, null, null);
    }

    public SiteConfig(String name, String type, Endpoint endpoint, String bucket, boolean bucketMatch) {
        this(name, type, endpoint, bucket, bucketMatch, null, false, null, null, null);
    }

    public SiteConfig(String name, String type, Endpoint endpoint, String bucket, boolean bucketMatch, Boolean verifyEtagMd5,
                      boolean external, Boolean serverSideCopy) {
        this(name, type, endpoint, bucket, bucketMatch, verifyEtagMd5, external, serverSideCopy, null, null);
    }

    public static final String TYPE_AWS_S3 = "aws_s3";
    /** A CloudServer / Zenko site, written through its backbeat routes (Backbeat's sites without a cloud type). */
    public static final String TYPE_SCALITY = "scality";

    public SiteConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("sites[].name is missing");
        }
        type = type == null ? TYPE_AWS_S3 : type;
        if (!TYPE_AWS_S3.equals(type) && !TYPE_SCALITY.equals(type)) {
            throw new IllegalArgumentException("site '" + name + "' has unsupported type '" + type + "' (supported: aws_s3, scality)");
        }
        if (endpoint == null) {
            throw new IllegalArgumentException("site '" + name + "' has no endpoint");
        }
        verifyEtagMd5 = verifyEtagMd5 == null ? Boolean.TRUE : verifyEtagMd5;
        deleteMarkerHeader = deleteMarkerHeader == null ? endpoint != null && endpoint.url() == null : deleteMarkerHeader;
        if (Boolean.TRUE.equals(serverSideCopy) && TYPE_SCALITY.equals(type)) {
            throw new IllegalArgumentException("site '" + name + "' is of type scality: its versions are written through CloudServer's"
                    + " backbeat routes, which have no server-side copy (remove serverSideCopy)");
        }
        if (encryption != null && TYPE_SCALITY.equals(type)) {
            throw new IllegalArgumentException("site '" + name + "' is of type scality: CloudServer encrypts replicas with its bucket's own"
                    + " settings, as Backbeat does (remove encryption)");
        }
        encryption = encryption == null ? ReplicaEncryption.AS_SOURCE : encryption;
        if (autoRetrySeconds != null && autoRetrySeconds.stream().anyMatch(d -> d == null || d <= 0)) {
            throw new IllegalArgumentException("site '" + name + "': autoRetrySeconds must be positive numbers of seconds: " + autoRetrySeconds);
        }
        autoRetrySeconds = autoRetrySeconds == null ? null : java.util.List.copyOf(autoRetrySeconds);
        if (maxBytesPerSecond != null && maxBytesPerSecond < 1024) {
            throw new IllegalArgumentException("site '" + name + "': maxBytesPerSecond must be at least 1024 (1 KB/s): " + maxBytesPerSecond);
        }
    }

    /** A copy of this site whose replicators send it at most {@code bytesPerSecond} (null: no limit). */
    public SiteConfig withMaxBytesPerSecond(Long bytesPerSecond) {
        return new SiteConfig(name, type, endpoint, bucket, bucketMatch, verifyEtagMd5, external, serverSideCopy, deleteMarkerHeader,
                encryption, autoRetrySeconds, bytesPerSecond);
    }

    /**
     * Whether versions from {@code source} are copied server-side to this site: as set, or by default when the site is
     * the source's own S3 service, which can read the source itself: the same endpoint (both unset: Amazon S3, in any
     * regions, as S3 copies across regions) with the same credentials (both unset: the function's role). Any other
     * pair streams the bytes through the replicator, as a destination elsewhere cannot read the source.
     */
    public boolean copiesServerSideFrom(Endpoint source) {
        if (!TYPE_AWS_S3.equals(type)) {
            return false;
        }
        if (serverSideCopy != null) {
            return serverSideCopy;
        }
        return java.util.Objects.equals(endpoint.url(), source.url()) && java.util.Objects.equals(endpoint.accessKeyId(), source.accessKeyId())
                && java.util.Objects.equals(endpoint.secretAccessKey(), source.secretAccessKey())
                && java.util.Objects.equals(endpoint.credentialsSecret(), source.credentialsSecret());
    }

    /** The bucket a version goes to: the site's fixed bucket, else its rule's Destination.Bucket (null if neither). */
    public String destinationBucket(io.backbeatserverless.core.metadata.ObjectMetadata version) {
        if (bucket != null && !bucket.isBlank()) {
            return bucket;
        }
        return version.replicationInfo()
                .map(i -> io.backbeatserverless.core.rules.ReplicationRule.bucketName(i.destination())).orElse(null);
    }

    /**
     * Whether several source buckets may write the same key here: every source bucket goes to this site's one bucket
     * ({@code bucket} set) and keys are not prefixed by the source bucket ({@code bucketMatch}). Then a key's entries at
     * the site, listed, may be another source bucket's replicas of the same bytes. Where each source bucket's rule names
     * its own destination bucket, one source bucket is assumed per destination bucket.
     */
    public boolean keysSharedBySourceBuckets() {
        return bucketMatch && bucket != null && !bucket.isBlank();
    }

    /** The key of the replica: Backbeat's cloud locations prefix the source bucket unless bucketMatch. */
    public String destinationKey(String sourceBucket, String objectKey) {
        return bucketMatch ? objectKey : sourceBucket + "/" + objectKey;
    }

    /** The consumer group of this site's replicator, as Backbeat names it. */
    public String consumerGroup() {
        return "backbeat-replication-" + name;
    }

    public SiteConfig withEndpoint(Endpoint newEndpoint) {
        return new SiteConfig(name, type, newEndpoint, bucket, bucketMatch, verifyEtagMd5, external, serverSideCopy, deleteMarkerHeader,
                encryption, autoRetrySeconds, maxBytesPerSecond);
    }
}
