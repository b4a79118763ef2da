package io.backbeatserverless.verifier;

import io.backbeatserverless.adapters.aws.VersionListing;
import io.backbeatserverless.core.metadata.ReplicaMarkers;
import io.backbeatserverless.core.verify.VersionDetails;
import io.github.resilience4j.ratelimiter.RateLimiter;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Bucket;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What verify reads of one S3 API (the source, or a site): listings, a version's HEAD as {@link VersionDetails},
 * its tags. Every request waits for the shared rate limiter's permit first.
 */
public final class VersionStore {

    private final S3Client s3;
    private final RateLimiter limiter;
    private final java.time.Clock clock;
    private final VersionListing listing;

    public VersionStore(S3Client s3, RateLimiter limiter, java.time.Clock clock) {
        this.s3 = s3;
        this.limiter = limiter;
        this.clock = clock;
        this.listing = new VersionListing(s3, limiter::acquirePermission);
    }

    public VersionListing listing() {
        return listing;
    }

    /** The multipart uploads in progress under {@code prefix} that started before {@code cutoff}. */
    public List<software.amazon.awssdk.services.s3.model.MultipartUpload> uploadsStartedBefore(String bucket, String prefix, java.time.Instant cutoff) {
        List<software.amazon.awssdk.services.s3.model.MultipartUpload> old = new java.util.ArrayList<>();
        String keyMarker = null;
        String uploadIdMarker = null;
        while (true) {
            limiter.acquirePermission();
            String k = keyMarker;
            String u = uploadIdMarker;
            var page = s3.listMultipartUploads(r -> r.bucket(bucket).prefix(prefix == null || prefix.isEmpty() ? null : prefix)
                    .keyMarker(k).uploadIdMarker(u));
            page.uploads().stream().filter(up -> up.initiated() != null && up.initiated().isBefore(cutoff)).forEach(old::add);
            if (!Boolean.TRUE.equals(page.isTruncated()) || page.nextKeyMarker() == null) {
                return old;
            }
            keyMarker = page.nextKeyMarker();
            uploadIdMarker = page.nextUploadIdMarker();
        }
    }

    public List<String> buckets() {
        limiter.acquirePermission();
        return s3.listBuckets().buckets().stream().map(Bucket::name).sorted().toList();
    }

    /** The version's details, or null when it is gone (or is a delete marker). */
    public VersionDetails details(String bucket, String key, String versionId) {
        limiter.acquirePermission();
        HeadObjectResponse head;
        try {
            head = s3.headObject(r -> r.bucket(bucket).key(key).versionId(versionId));
        } catch (S3Exception e) {
            if (e.statusCode() == 404 || e.statusCode() == 405) {
                return null;
            }
            throw e;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        put(headers, "content-type", head.contentType());
        put(headers, "cache-control", head.cacheControl());
        put(headers, "content-disposition", head.contentDisposition());
        put(headers, "content-encoding", head.contentEncoding());
        put(headers, "content-language", head.contentLanguage());
        put(headers, "expires", head.expires() == null ? null : head.expires().toString());
        Map<String, String> metadata = new HashMap<>();
        head.metadata().forEach((name, value) -> metadata.put(name.toLowerCase(Locale.ROOT), value));
        String replicaOf = metadata.remove(ReplicaMarkers.SOURCE_VERSION);
        String marker = metadata.remove(ReplicaMarkers.REPLICA_STATUS);
        metadata.remove(ReplicaMarkers.SOURCE_LAST_MODIFIED);
        boolean replica = "REPLICA".equalsIgnoreCase(marker) || "REPLICA".equalsIgnoreCase(head.replicationStatusAsString());
        String eTag = head.eTag() == null ? null : head.eTag().replace("\"", "");
        return new VersionDetails(head.contentLength() == null ? 0 : head.contentLength(), eTag, headers, metadata, null, replicaOf, replica,
                protection(head));
    }

    /**
     * The Object Lock in force (a retention past its date protects nothing, and a replica written after it has none: S3
     * refuses a date in the past) and the encryption, as the HEAD says them. The source's lock is read only by a caller
     * allowed s3:GetObjectRetention and s3:GetObjectLegalHold (verify's role is).
     */
    private Map<String, String> protection(HeadObjectResponse head) {
        Map<String, String> protection = new HashMap<>();
        var lock = new io.backbeatserverless.core.metadata.ObjectLock(head.objectLockModeAsString(), head.objectLockRetainUntilDate(),
                head.objectLockLegalHoldStatusAsString()).inForce(clock.instant());
        put(protection, VersionDetails.LOCK_MODE, lock.mode());
        put(protection, VersionDetails.LOCK_UNTIL, lock.retainUntil() == null ? null : lock.retainUntil().toString());
        put(protection, VersionDetails.LEGAL_HOLD, lock.legalHold());
        put(protection, VersionDetails.ENCRYPTION, head.serverSideEncryptionAsString());
        put(protection, VersionDetails.KMS_KEY, head.ssekmsKeyId());
        return protection;
    }

    public Map<String, String> tags(String bucket, String key, String versionId) {
        limiter.acquirePermission();
        Map<String, String> tags = new HashMap<>();
        try {
            s3.getObjectTagging(r -> r.bucket(bucket).key(key).versionId(versionId)).tagSet().forEach(t -> tags.put(t.key(), t.value()));
        } catch (S3Exception e) {
            if (e.statusCode() != 404 && e.statusCode() != 405) {
                throw e;
            }
        }
        return tags;
    }

    private static void put(Map<String, String> headers, String name, String value) {
        if (value != null && !value.isEmpty()) {
            headers.put(name, value);
        }
    }
}
