package io.backbeatserverless.replicator;

import io.backbeatserverless.core.metadata.ObjectLock;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.metadata.ReplicaMarkers;
import io.backbeatserverless.core.retry.Retrier;
import io.backbeatserverless.replicator.ReplicationErrors.IntegrityException;
import io.backbeatserverless.replicator.ReplicationErrors.SourceReadException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.Tag;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One S3 site as {@link S3SiteReplicator} and its copiers see it: the replicas of a key there (the latest, the newest
 * beneath delete markers, the one of a given source version), what a replica carries (its metadata, the source's tags)
 * and the check of what the site stored against what was sent.
 */
final class ReplicaSite {

    static final Logger LOG = LoggerFactory.getLogger(ReplicaSite.class);

    private final SiteConfig site;
    private final S3Client source;
    private final S3Client destination;
    private final Retrier retrier;
    private final java.time.Clock clock;

    ReplicaSite(SiteConfig site, S3Client source, S3Client destination, Retrier retrier, java.time.Clock clock) {
        this.site = site;
        this.source = source;
        this.destination = destination;
        this.retrier = retrier;
        this.clock = clock;
    }

    /** The lock and encryption a replica of {@code object} is written with at this site, now. */
    ReplicaProtection protection(SourceObject object) {
        return ReplicaProtection.of(object, site, clock.instant());
    }

    /**
     * A write of a replica, with {@code protection}: a site bucket without Object Lock refuses a lock (400 InvalidRequest
     * "Bucket is missing ObjectLockConfiguration"), which fails the version with S3 Replication's reason for it, never a copy
     * without the lock.
     */
    <T> T writing(ReplicaProtection protection, String bucket, java.util.function.Supplier<T> write) {
        try {
            return write.get();
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (!protection.lock().isNone() && e.statusCode() == 400 && e.awsErrorDetails() != null
                    && "InvalidRequest".equals(e.awsErrorDetails().errorCode()) && e.awsErrorDetails().errorMessage() != null
                    && e.awsErrorDetails().errorMessage().replace(" ", "").contains("ObjectLockConfiguration")) {
                throw new ReplicationErrors.SiteRefusal("DstBucketObjectLockConfigMissing: site '" + site.name() + "' bucket '" + bucket
                        + "' has no Object Lock, and the version has " + protection.lock() + "; enable Object Lock on the site bucket, then retry"
                        + " (the version is not copied without its lock)", e);
            }
            throw e;
        }
    }


    /**
     * Notes that a request failed without an answer, so it may have been done ({@link ReplicationErrors#mayHaveBeenDone}):
     * its retry then looks at the site before doing it again.
     */
    static final class AnswerLost {
        private volatile boolean happened;

        /**
         * Whether the work is there, asked only after a lost answer. A look that fails itself counts as "not there":
         * the request is then sent again (a duplicate only if both the answer and the look were lost), rather than
         * spending the attempt on the look.
         */
        boolean workThere(java.util.function.BooleanSupplier look) {
            if (!happened) {
                return false;
            }
            try {
                return look.getAsBoolean();
            } catch (SdkException e) {
                LOG.debug("could not look whether a request whose answer was lost was done: {}", e.toString());
                return false;
            }
        }

        <T> T noting(java.util.function.Supplier<T> request) {
            try {
                return request.get();
            } catch (RuntimeException e) {
                if (ReplicationErrors.mayHaveBeenDone(e)) {
                    happened = true;
                }
                throw e;
            }
        }
    }

    /** The delete markers on top of a key at the site, and the source version its newest replica beneath is of (or null). */
    record SiteTop(int markers, String replicaOf) {
    }

    SiteTop siteTop(String bucket, String key) {
        return markersAbove(bucket, key, replicaOf -> true);
    }

    /**
     * The site's newest replica of a version the source still lists ({@code sourceVersions}), and the delete markers
     * above it: where the site's history meets the source's when its newest replica beneath the markers is of a version
     * deleted at the source since (version deletes are not replicated, so that replica stays, with the markers below it).
     * Null {@code replicaOf} when none is found.
     */
    SiteTop anchor(String bucket, String key, java.util.Set<String> sourceVersions) {
        return markersAbove(bucket, key, replicaOf -> replicaOf != null && sourceVersions.contains(replicaOf));
    }

    /**
     * The markers from the top of the key's history at the site down to the first version whose source version (null: no
     * replica) {@code stop} accepts, and that source version. A HEAD per version walked.
     */
    private SiteTop markersAbove(String bucket, String key, java.util.function.Predicate<String> stop) {
        int[] markers = {0};
        String[] found = {null};
        KeyEntries.newestFirst(destination, bucket, key, listed -> {
            if (listed.deleteMarker()) {
                markers[0]++;
                return true;
            }
            String of = destination.headObject(r -> r.bucket(bucket).key(key).versionId(listed.versionId())).metadata()
                    .get(ReplicaMarkers.SOURCE_VERSION);
            if (stop.test(of)) {
                found[0] = of;
                return false;
            }
            return true;
        });
        return new SiteTop(markers[0], found[0]);
    }

    /** The key's latest replica at the site if it is of this source version, the same size. */
    Optional<HeadObjectResponse> replicaOf(String bucket, String key, String version, long contentLength) {
        return headLatest(bucket, key).replica().filter(h -> version.equals(h.metadata().get(ReplicaMarkers.SOURCE_VERSION))
                && h.contentLength() != null && h.contentLength() == contentLength);
    }

    /**
     * The site's version of the replica of source version {@code version}, among the key's versions there (newest first,
     * each HEAD read for the source version it replicates); empty when none is. For changes of an older version's tags
     * and versions superseded at the site, which are rare: a HEAD per version of the key above it, of its size only when
     * {@code size} is given (a replica has its source version's size).
     */
    Optional<String> siteVersionOf(String bucket, String key, String version, Long size) {
        for (var page : destination.listObjectVersionsPaginator(r -> r.bucket(bucket).prefix(key))) {
            for (var v : page.versions()) {
                if (v.key().equals(key) && (size == null || size.equals(v.size())) && version.equals(destination.headObject(r -> r.bucket(bucket).key(key).versionId(v.versionId()))
                        .metadata().get(ReplicaMarkers.SOURCE_VERSION))) {
                    return Optional.of(v.versionId());
                }
            }
        }
        return Optional.empty();
    }

    /**
     * When the key's latest entry at the site is a delete marker, its newest version beneath (read with its metadata);
     * else empty. One listing answers both (a key's entries are listed newest first).
     */
    Beneath newestReplicaUnderMarker(String bucket, String key) {
        var page = destination.listObjectVersions(r -> r.bucket(bucket).prefix(key));
        boolean underMarker = page.deleteMarkers().stream().anyMatch(d -> d.key().equals(key) && Boolean.TRUE.equals(d.isLatest()));
        if (!underMarker) {
            return new Beneath(false, Optional.empty());
        }
        return new Beneath(true, page.versions().stream().filter(v -> v.key().equals(key)).findFirst()
                .map(v -> destination.headObject(r -> r.bucket(bucket).key(key).versionId(v.versionId()))));
    }

    /** What one listing of a key at the site says: whether a delete marker is its latest entry, and the replica beneath. */
    record Beneath(boolean markerOnTop, Optional<HeadObjectResponse> replica) {
    }

    /**
     * The key's latest replica at the site, or none; when none, whether its latest entry is a delete marker, if the
     * site said so ({@code x-amz-delete-marker} on the 404, as S3 does; null when it did not say).
     */
    record Latest(Optional<HeadObjectResponse> replica, Boolean deleteMarker) {
    }

    Latest headLatest(String bucket, String key) {
        try {
            return new Latest(Optional.of(destination.headObject(r -> r.bucket(bucket).key(key))), false);
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                // Absent, the header means "no marker on top" only from a site known to send it (SiteConfig.deleteMarkerHeader).
                Boolean marker = e.awsErrorDetails() == null || e.awsErrorDetails().sdkHttpResponse() == null ? null
                        : e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-delete-marker").map(Boolean::parseBoolean)
                        .orElse(site.deleteMarkerHeader() ? Boolean.FALSE : null);
                return new Latest(Optional.empty(), marker);
            }
            throw e;
        }
    }

    /**
     * A change of a version's metadata alone, applied to its replica in place (a change never re-copies the bytes): its tags,
     * and its Object Lock (S3 Replication replicates later retention and legal hold changes too: "Replicating metadata
     * changes"), each written only where the replica's differs. A GOVERNANCE retention is shortened or lifted with
     * {@code x-amz-bypass-governance-retention} (the site's principal needs s3:BypassGovernanceRetention); S3 refuses any
     * such change of a COMPLIANCE one, which fails with S3's reason.
     */
    void updateInPlace(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key, String replicaVersion)
            throws Exception {
        List<Tag> tags = retrier.call(budget, () -> sourceTags(entry, version));
        retrier.call(budget, () -> tags.isEmpty()
                ? destination.deleteObjectTagging(r -> r.bucket(bucket).key(key).versionId(replicaVersion))
                : destination.putObjectTagging(r -> r.bucket(bucket).key(key).versionId(replicaVersion)
                .tagging(t -> t.tagSet(tags))));
        java.time.Instant now = clock.instant();
        ObjectLock wanted = retrier.call(budget, () -> headSource(entry, version)).lock().inForce(now);
        var replica = retrier.call(budget, () -> destination.headObject(r -> r.bucket(bucket).key(key).versionId(replicaVersion)));
        ObjectLock there = SourceObject.of(replica).lock().inForce(now);
        ReplicaProtection protection = new ReplicaProtection(wanted, null, null);
        if (!java.util.Objects.equals(wanted.mode(), there.mode()) || !java.util.Objects.equals(wanted.retainUntil(), there.retainUntil())) {
            retrier.call(budget, () -> writing(protection, bucket, () -> destination.putObjectRetention(r -> r.bucket(bucket).key(key)
                    .versionId(replicaVersion).bypassGovernanceRetention(there.mode() != null ? Boolean.TRUE : null)
                    .retention(wanted.mode() == null ? software.amazon.awssdk.services.s3.model.ObjectLockRetention.builder().build()
                            : software.amazon.awssdk.services.s3.model.ObjectLockRetention.builder().mode(wanted.mode())
                            .retainUntilDate(wanted.retainUntil()).build()))));
        }
        if (!java.util.Objects.equals(wanted.legalHold(), there.legalHold())) {
            retrier.call(budget, () -> writing(protection, bucket, () -> destination.putObjectLegalHold(r -> r.bucket(bucket).key(key)
                    .versionId(replicaVersion).legalHold(h -> h.status(wanted.legalHold() == null ? "OFF" : "ON")))));
        }
    }

    List<Tag> sourceTags(ReplicationEntry entry, String version) {
        return fromSource("GET tagging", () -> source.getObjectTagging(r -> r.bucket(entry.bucket())
                .key(entry.objectKey()).versionId(version)).tagSet());
    }

    static Map<String, String> replicaMetadata(SourceObject object, ReplicationEntry entry, String version) {
        Map<String, String> metadata = new HashMap<>(object.metadata());
        metadata.put(ReplicaMarkers.REPLICA_STATUS, "REPLICA");
        metadata.put(ReplicaMarkers.SOURCE_VERSION, version);
        if (entry.metadata().lastModified() != null) {
            metadata.put(ReplicaMarkers.SOURCE_LAST_MODIFIED, entry.metadata().lastModified());
        }
        return metadata;
    }

    /**
     * Checks the site's ETag against the MD5 of the bytes sent. A mismatch is retried (the bytes may have been
     * damaged on the way); the same mismatch for the same bytes again means the site's ETags are not content MD5s,
     * which no retry changes: that fails at once, saying which setting to change.
     */
    void verifyEtag(String stored, String expected, String what, Set<String> mismatches) {
        if (site.verifyEtagMd5() && stored != null && !stored.equals(expected)) {
            if (!mismatches.add(what + " " + expected + " " + stored)) {
                throw new ReplicationErrors.EtagNotMd5Exception("site '" + site.name() + "' answered ETag " + stored + " for " + what
                        + " whose MD5 is " + expected + ", twice: its ETags are not MD5s of the content (SSE-KMS encryption does this); "
                        + "set verifyEtagMd5 to false for site '" + site.name() + "' in the configuration");
            }
            throw new IntegrityException("site '" + site.name() + "' stored " + what + " with ETag " + stored
                    + " but the bytes sent have " + expected);
        }
    }

    static void refuseReplica(SourceObject object) {
        if (object.isReplica()) {
            throw new NotReplicable("the source version is itself a replica (x-amz-meta-scal-replication-status: REPLICA); replicas are never replicated");
        }
    }

    void abort(String bucket, String key, String uploadId) {
        try {
            destination.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId));
        } catch (SdkException e) {
            LOG.warn("site {}: could not abort multipart upload {} of {}/{}: {}", site.name(), uploadId, bucket, key, e.toString());
        }
    }

    static <T> T fromSource(String what, java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (SdkException e) {
            if (customerKeyNeeded(e)) {
                // S3 Replication copies SSE-C objects (it holds no key either: it copies the ciphertext inside S3); a replicator
                // reading through the S3 API cannot without the customer's key, which it is not given: skipped, with why.
                throw new NotReplicable("the source version is encrypted with a customer-provided key (SSE-C), which the replicator"
                        + " does not hold: the source refuses to read it (" + ReplicationErrors.describe(e) + ")");
            }
            throw new SourceReadException(what + " from the source", e);
        }
    }

    /**
     * The source's HEAD of a version, as what a replica must carry. A HEAD refused with 400 has no body to say why, so a
     * one-byte GET asks again: an SSE-C version's answer then says so (and it is skipped), any other stays the HEAD's.
     */
    SourceObject headSource(ReplicationEntry entry, String version) {
        return SourceObject.of(fromSource("HEAD", () -> {
            try {
                return source.headObject(r -> r.bucket(entry.bucket()).key(entry.objectKey()).versionId(version));
            } catch (software.amazon.awssdk.services.s3.model.S3Exception refused) {
                if (refused.statusCode() == 400) {
                    try {
                        source.getObject(r -> r.bucket(entry.bucket()).key(entry.objectKey()).versionId(version).range("bytes=0-0"),
                                software.amazon.awssdk.core.sync.ResponseTransformer.toBytes());
                    } catch (software.amazon.awssdk.services.s3.model.S3Exception why) {
                        if (customerKeyNeeded(why)) {
                            throw why;
                        }
                    }
                }
                throw refused;
            }
        }));
    }

    /**
     * S3's answer to a read of an SSE-C version without its key: 400 InvalidRequest "The object was stored using a form of
     * Server Side Encryption. The correct parameters must be provided to retrieve the object." (a HEAD's has no body).
     */
    private static boolean customerKeyNeeded(SdkException e) {
        if (!(e instanceof software.amazon.awssdk.awscore.exception.AwsServiceException aws) || aws.statusCode() != 400) {
            return false;
        }
        var details = aws.awsErrorDetails();
        String message = details == null ? null : details.errorMessage();
        return message != null && message.contains("Server Side Encryption") && message.contains("correct parameters");
    }

    static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The version must not be replicated; the message says why. */
    static final class NotReplicable extends RuntimeException {
        NotReplicable(String message) {
            super(message);
        }
    }
}
