package io.backbeatserverless.replicator;

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

    ReplicaSite(SiteConfig site, S3Client source, S3Client destination, Retrier retrier) {
        this.site = site;
        this.source = source;
        this.destination = destination;
        this.retrier = retrier;
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

    void retagReplica(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key, String replicaVersion)
            throws Exception {
        List<Tag> tags = retrier.call(budget, () -> sourceTags(entry, version));
        retrier.call(budget, () -> tags.isEmpty()
                ? destination.deleteObjectTagging(r -> r.bucket(bucket).key(key).versionId(replicaVersion))
                : destination.putObjectTagging(r -> r.bucket(bucket).key(key).versionId(replicaVersion)
                .tagging(t -> t.tagSet(tags))));
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
            throw new SourceReadException(what + " from the source", e);
        }
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
