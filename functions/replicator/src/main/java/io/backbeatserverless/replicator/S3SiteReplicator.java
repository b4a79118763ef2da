package io.backbeatserverless.replicator;

import io.backbeatserverless.core.crash.CrashPoints;

import io.backbeatserverless.core.retry.Retrier;

import io.backbeatserverless.adapters.config.ReplicatorSettings;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.metadata.ReplicaMarkers;
import io.backbeatserverless.core.transfer.CopyProgress;
import io.backbeatserverless.core.transfer.CopyProgressStore;
import io.backbeatserverless.core.transfer.PartPlan;
import io.backbeatserverless.replicator.ReplicationErrors.IntegrityException;
import io.backbeatserverless.replicator.ReplicationErrors.SourceReadException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.TaggingDirective;
import software.amazon.awssdk.services.s3.model.UploadPartCopyResponse;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.Tagging;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * Replicates to an {@code aws_s3} site (AWS S3 or any S3-compatible store), as Backbeat's queue
 * processor does for cloud locations:
 * <ul>
 *   <li>data is streamed from the source GET into the destination PUT, never held whole in memory;
 *       at or above the multipart threshold it goes in parts (Backbeat's sizing, {@link PartPlan}),
 *       each a ranged GET streamed into an UploadPart, several at once, the upload aborted on failure;</li>
 *   <li>integrity is checked end to end: the MD5 of the bytes streamed must match the ETag the site
 *       returns (per part, and the multipart ETag), and a single-part source's ETag;</li>
 *   <li>content headers, user metadata and tags travel with the data; a delete marker becomes a DELETE
 *       on the versioned destination; a tag-only change (content METADATA) re-tags the replica;</li>
 *   <li>the replica carries {@code scal-replication-status: REPLICA}, {@code scal-version-id} (the source
 *       version) and {@code scal-source-last-modified}: a replay finds its version already there and
 *       copies nothing, and an older version never overwrites a newer one at the site;</li>
 *   <li>every request is retried under the {@link Retrier}'s policy when {@link ReplicationErrors} calls
 *       it retryable; the outcome counts the attempts.</li>
 * </ul>
 */
public final class S3SiteReplicator implements SiteReplicator {

    public static final String REPLICA_STATUS_META = ReplicaMarkers.REPLICA_STATUS;
    public static final String SOURCE_VERSION_META = ReplicaMarkers.SOURCE_VERSION;
    public static final String SOURCE_LAST_MODIFIED_META = ReplicaMarkers.SOURCE_LAST_MODIFIED;

    private static final Logger LOG = LoggerFactory.getLogger(S3SiteReplicator.class);
    private static final long SMALL_BODY_BYTES = 1 << 20;

    private final SiteConfig site;
    private final S3Client source;
    private final S3Client destination;
    private final ReplicatorSettings settings;
    private final Retrier retrier;
    private final UnaryOperator<String> sourceVersionId;
    private final SourceHistory sourceHistory;
    private final CopyProgressStore copyProgress;
    private final java.time.Clock clock;
    private final boolean serverSideCopy;
    private final SiteStatuses siteStatuses;
    private final java.util.concurrent.atomic.LongAdder bytesReadFromSource = new java.util.concurrent.atomic.LongAdder();

    /**
     * @param sourceVersionId the source S3 API's spelling of an entry's version id (CloudServer sources: hex)
     */
    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination, ReplicatorSettings settings, Retrier retrier,
                            UnaryOperator<String> sourceVersionId) {
        this(site, source, destination, settings, retrier, sourceVersionId, null, java.time.Clock.systemUTC());
    }

    /**
     * @param copyProgress where multipart copies save their progress after every part, so one cut short by a deadline
     *                     or a crash resumes after its last part done; null: copies are not resumable (nor deferred)
     */
    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination, ReplicatorSettings settings, Retrier retrier,
                            UnaryOperator<String> sourceVersionId, CopyProgressStore copyProgress, java.time.Clock clock) {
        this(site, source, destination, settings, retrier, sourceVersionId, copyProgress, clock, false);
    }

    /**
     * @param serverSideCopy copy with {@code CopyObject} / {@code UploadPartCopy} sent to the site, which reads the source
     *                       itself ({@link SiteConfig#copiesServerSideFrom}): no byte passes through this function
     */
    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination, ReplicatorSettings settings, Retrier retrier,
                            UnaryOperator<String> sourceVersionId, CopyProgressStore copyProgress, java.time.Clock clock,
                            boolean serverSideCopy) {
        this(site, source, destination, settings, retrier, sourceVersionId, copyProgress, clock, serverSideCopy, SiteStatuses.UNKNOWN);
    }

    /**
     * @param siteStatuses what the status table says this site has: a version about to go over a delete marker asks it
     *                     whether the source's newer markers are replicated already ({@link #supersededByMarkers})
     */
    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination, ReplicatorSettings settings, Retrier retrier,
                            UnaryOperator<String> sourceVersionId, CopyProgressStore copyProgress, java.time.Clock clock,
                            boolean serverSideCopy, SiteStatuses siteStatuses) {
        this.siteStatuses = siteStatuses;
        this.serverSideCopy = serverSideCopy;
        this.copyProgress = copyProgress;
        this.clock = clock;
        this.site = site;
        this.source = source;
        this.destination = destination;
        this.settings = settings;
        this.retrier = retrier;
        this.sourceVersionId = sourceVersionId;
        this.sourceHistory = new SourceHistory(source);
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry) {
        return replicate(entry, null);
    }

    /** Bytes of object data read from the source through this function so far (none when copies are server-side). */
    public long bytesReadFromSource() {
        return bytesReadFromSource.sum();
    }

    @Override
    public String sourceVersion(ReplicationEntry entry) {
        return sourceVersionId.apply(entry.versionId());
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry, Instant deadline) {
        ReplicationOutcome outcome = replicateOnce(entry, deadline);
        if (!outcome.isDeferred() && copyProgress != null && entry.metadata().contentLength() >= settings.multipartThresholdBytes()) {
            forgetCopy(entry);
        }
        return outcome;
    }

    /**
     * Once a version's outcome is final (completed, skipped: the source version gone, superseded; failed), no copy of it
     * is in progress any more: its upload, if one is left, is aborted and its progress removed, so that the later
     * versions of its key, which wait behind a copy in progress, are not held forever. (A completed copy has removed
     * its progress already: one read.)
     */
    private void forgetCopy(ReplicationEntry entry) {
        String version = sourceVersionId.apply(entry.versionId());
        try {
            copyProgress.find(site.name(), entry.bucket(), entry.objectKey()).filter(p -> p.versionId().equals(version)).ifPresent(p -> {
                abort(p.destinationBucket(), p.destinationKey(), p.uploadId());
                copyProgress.remove(site.name(), entry.bucket(), entry.objectKey());
            });
        } catch (SdkException e) {
            // Left for the next outcome of the key, or for the progress's expiry.
            LOG.warn("site {}: could not clear the copy progress of {}/{}: {}", site.name(), entry.bucket(), entry.objectKey(), e.toString());
        }
    }

    private ReplicationOutcome replicateOnce(ReplicationEntry entry, Instant deadline) {
        Retrier.Budget budget = retrier.newBudget();
        String bucket = site.destinationBucket(entry.metadata());
        if (bucket == null || bucket.isBlank()) {
            return ReplicationOutcome.noBucket(site.name());
        }
        String key = site.destinationKey(entry.bucket(), entry.objectKey());
        String version = sourceVersionId.apply(entry.versionId());
        Set<String> mismatches = new HashSet<>();
        try {
            Latest head = retrier.call(budget, () -> headLatest(bucket, key));
            Optional<HeadObjectResponse> current = head.replica();
            boolean deleteMarkerEntry = entry.metadata().isDeleteMarker();
            // Under a delete marker at the site, the newest replica beneath it says what this version is to the site: a
            // replay (a populator or replicator restarted) re-reads versions already replicated, and copying one again
            // would put an old version over the marker (found by the chaos run: whole key histories copied twice). The
            // same for a delete marker: a marker on top with a newer version beneath is a newer marker, not this one (a
            // marker retried late, after its key's newer entries, was taken for done: found by the chaos run too).
            // A site that says when a marker is on top (S3's x-amz-delete-marker) spares the listing when none is.
            if (current.isEmpty() && !Boolean.FALSE.equals(head.deleteMarker())) {
                Beneath listed = retrier.call(budget, () -> newestReplicaUnderMarker(bucket, key));
                current = listed.replica();
                head = new Latest(head.replica(), listed.markerOnTop()); // the listing said it: no second look below
            }
            if (current.isPresent()) {
                Map<String, String> replica = current.get().metadata();
                if (version.equals(replica.get(SOURCE_VERSION_META)) && !entry.forceCopy()) {
                    if (entry.metadata().replicationInfo().map(i -> i.isMetadataOnly()).orElse(false)) {
                        retagReplica(budget, entry, version, bucket, key, current.get().versionId());
                    }
                    return ReplicationOutcome.completed(budget.attempts(), 0);
                }
                // A change of an older version's tags: its replica is beneath the latest at the site, re-tagged in place.
                if (entry.metadata().replicationInfo().map(i -> i.isMetadataOnly()).orElse(false) && !entry.forceCopy()) {
                    Optional<String> beneath = retrier.call(budget, () -> siteVersionOf(bucket, key, version));
                    if (beneath.isPresent()) {
                        retagReplica(budget, entry, version, bucket, key, beneath.get());
                        return ReplicationOutcome.completed(budget.attempts(), 0);
                    }
                }
                // An older version, or an older delete marker, must never hide a newer one at the site.
                Map<String, String> atSite = replica;
                if (retrier.call(budget, () -> sourceHistory.isNewer(entry.bucket(), entry.objectKey(), atSite.get(SOURCE_VERSION_META),
                        atSite.get(SOURCE_LAST_MODIFIED_META), version, entry.metadata().lastModified()))) {
                    return ReplicationOutcome.skipped("superseded: a newer version (source version "
                            + replica.get(SOURCE_VERSION_META) + ") is already the latest at the site", budget.attempts());
                }
            }
            boolean markerOnTop = head.replica().isEmpty() && Boolean.TRUE.equals(head.deleteMarker());
            if (!deleteMarkerEntry && markerOnTop) {
                Optional<String> newer = retrier.call(budget, () -> supersededByMarkers(entry, version));
                if (newer.isPresent()) {
                    return ReplicationOutcome.skipped("superseded: a newer delete marker (source version " + newer.get()
                            + ") is already replicated and on top at the site", budget.attempts());
                }
            }
            if (deleteMarkerEntry) {
                return replicateDeleteMarker(budget, entry, version, bucket, key, head);
            }
            long bytes = entry.metadata().contentLength() >= settings.multipartThresholdBytes()
                    ? copyInParts(budget, entry, version, bucket, key, mismatches, copyProgress == null ? null : deadline)
                    : serverSideCopy ? copyWholeServerSide(budget, entry, version, bucket, key, mismatches)
                    : copyWhole(budget, entry, version, bucket, key, mismatches);
            return ReplicationOutcome.completed(budget.attempts(), bytes);
        } catch (CopyDeferred e) {
            return ReplicationOutcome.deferred(e.getMessage(), budget.attempts(), e.bytesThisTime);
        } catch (NotReplicable e) {
            return ReplicationOutcome.skipped(e.getMessage(), budget.attempts());
        } catch (Exception e) {
            return ReplicationOutcome.of(e, budget.attempts());
        }
    }

    /**
     * The newest of the source's delete markers above this version that the status table has COMPLETED at this site, if
     * one is: then the markers on top at the site stand for it, and this version, replicated late (an operator's retry
     * of a failed version, a replay), must not go over them. A marker at the site cannot say which source marker it is
     * (found by the chaos run: a retried version landed over two newer markers, the site's latest a version where the
     * source's is a marker). Markers not replicated yet are still to come after this version, which is then copied, as in order.
     */
    private Optional<String> supersededByMarkers(ReplicationEntry entry, String version) {
        List<String> newerMarkers = sourceHistory.deleteMarkersNewerThan(entry.bucket(), entry.objectKey(), version);
        return siteStatuses.firstCompleted(site.name(), entry.bucket(), entry.objectKey(), newerMarkers);
    }

    /**
     * Notes that a request failed without an answer, so it may have been done ({@link ReplicationErrors#mayHaveBeenDone}):
     * its retry then looks at the site before doing it again.
     */
    private static final class AnswerLost {
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

    /**
     * A delete marker becomes a DELETE at the site, so that the site has, on top of its replica of the key's newest
     * version beneath, as many markers as the source has from that version up to this one: each source marker has its
     * own at the site, as S3 Replication replicates each (found running as deployed: two markers in a row at the source
     * were one at the site). A marker is the same as any other, so it is their count that makes a replay idempotent: a
     * replayed marker finds the count reached and writes nothing, and a DELETE whose answer was lost is not sent again
     * once the count is there. With no marker on top (a replica, or nothing) this marker makes one, with no listing:
     * the common case, a key deleted once, costs no more than a DELETE; markers already on top are counted against
     * the source's (one listing of the key at each side), and those whose entries are late are made up there.
     */
    private ReplicationOutcome replicateDeleteMarker(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket,
                                                     String key, Latest head) throws Exception {
        boolean markerOnTop = head.replica().isEmpty() && !Boolean.FALSE.equals(head.deleteMarker());
        SiteTop top = markerOnTop ? retrier.call(budget, () -> siteTop(bucket, key)) : new SiteTop(0, null);
        // A marker the source no longer lists (its version was deleted there, counted -1): the marker on top stands for it.
        int wanted = top.markers() == 0 ? 1 : Math.max(1,
                retrier.call(budget, () -> sourceHistory.markersUpTo(entry.bucket(), entry.objectKey(), top.replicaOf(), version)));
        AnswerLost lost = new AnswerLost();
        for (int present = top.markers(); present < wanted; present++) {
            int needed = present + 1;
            retrier.call(budget, () -> {
                // Each DELETE adds a marker: after one whose answer never came, look before deleting again.
                if (lost.workThere(() -> siteTop(bucket, key).markers() >= needed)) {
                    return null;
                }
                return lost.noting(() -> destination.deleteObject(r -> r.bucket(bucket).key(key)));
            });
        }
        return ReplicationOutcome.completed(budget.attempts(), 0);
    }

    /** The delete markers on top of a key at the site, and the source version its newest replica beneath is of (or null). */
    private record SiteTop(int markers, String replicaOf) {
    }

    private SiteTop siteTop(String bucket, String key) {
        int[] markers = {0};
        String[] newestVersion = {null};
        KeyEntries.newestFirst(destination, bucket, key, listed -> {
            if (listed.deleteMarker()) {
                markers[0]++;
                return true;
            }
            newestVersion[0] = listed.versionId();
            return false;
        });
        String replicaOf = newestVersion[0] == null ? null
                : destination.headObject(r -> r.bucket(bucket).key(key).versionId(newestVersion[0])).metadata().get(SOURCE_VERSION_META);
        return new SiteTop(markers[0], replicaOf);
    }

    /** The key's latest replica at the site if it is of this source version, the same size. */
    private Optional<HeadObjectResponse> replicaOf(String bucket, String key, String version, long contentLength) {
        return headLatest(bucket, key).replica().filter(h -> version.equals(h.metadata().get(SOURCE_VERSION_META))
                && h.contentLength() != null && h.contentLength() == contentLength);
    }

    /**
     * The site's version of the replica of source version {@code version}, among the key's versions there (newest first,
     * each HEAD read for the source version it replicates); empty when none is. For changes of an older version's tags,
     * which are rare: a HEAD per version of the key above it.
     */
    private Optional<String> siteVersionOf(String bucket, String key, String version) {
        for (var page : destination.listObjectVersionsPaginator(r -> r.bucket(bucket).prefix(key))) {
            for (var v : page.versions()) {
                if (v.key().equals(key) && version.equals(destination.headObject(r -> r.bucket(bucket).key(key).versionId(v.versionId()))
                        .metadata().get(SOURCE_VERSION_META))) {
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
    private Beneath newestReplicaUnderMarker(String bucket, String key) {
        var page = destination.listObjectVersions(r -> r.bucket(bucket).prefix(key));
        boolean underMarker = page.deleteMarkers().stream().anyMatch(d -> d.key().equals(key) && Boolean.TRUE.equals(d.isLatest()));
        if (!underMarker) {
            return new Beneath(false, Optional.empty());
        }
        return new Beneath(true, page.versions().stream().filter(v -> v.key().equals(key)).findFirst()
                .map(v -> destination.headObject(r -> r.bucket(bucket).key(key).versionId(v.versionId()))));
    }

    /** What one listing of a key at the site says: whether a delete marker is its latest entry, and the replica beneath. */
    private record Beneath(boolean markerOnTop, Optional<HeadObjectResponse> replica) {
    }

    /**
     * The key's latest replica at the site, or none; when none, whether its latest entry is a delete marker, if the
     * site said so ({@code x-amz-delete-marker} on the 404, as S3 does; null when it did not say).
     */
    private record Latest(Optional<HeadObjectResponse> replica, Boolean deleteMarker) {
    }

    private Latest headLatest(String bucket, String key) {
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

    private long copyWhole(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
                           Set<String> mismatches) throws Exception {
        AnswerLost lost = new AnswerLost();
        return retrier.call(budget, () -> {
            ResponseInputStream<GetObjectResponse> data = fromSource("GET", () -> source.getObject(r -> r
                    .bucket(entry.bucket()).key(entry.objectKey()).versionId(version)));
            try (data) {
                SourceObject object = SourceObject.of(data.response());
                refuseReplica(object);
                // A PUT whose answer never came may have stored the replica: a second one would be a duplicate version.
                if (lost.workThere(() -> replicaOf(bucket, key, version, object.contentLength())
                        .filter(h -> !object.eTagIsMd5() || object.eTag().equals(SourceObject.unquote(h.eTag()))).isPresent())) {
                    return object.contentLength();
                }
                List<Tag> tags = object.tagCount() != null && object.tagCount() > 0 ? sourceTags(entry, version) : List.of();
                MessageDigest md5 = md5();
                PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(bucket).key(key)
                        .contentLength(object.contentLength()).contentType(object.contentType())
                        .cacheControl(object.cacheControl()).contentDisposition(object.contentDisposition())
                        .contentEncoding(object.contentEncoding()).contentLanguage(object.contentLanguage())
                        .expires(object.expires()).metadata(replicaMetadata(object, entry, version));
                if (!tags.isEmpty()) {
                    put.tagging(Tagging.builder().tagSet(tags).build());
                }
                // Up to 1 MiB the body is read whole: a byte array is signed in one pass, while a stream is sent
                // aws-chunked with a signature per chunk (costly per small object); larger bodies stay streamed.
                InputStream digested = new DigestInputStream(data, md5);
                RequestBody body = object.contentLength() <= SMALL_BODY_BYTES ? RequestBody.fromBytes(digested.readAllBytes())
                        : RequestBody.fromInputStream(digested, object.contentLength());
                String stored = SourceObject.unquote(lost.noting(() -> destination.putObject(put.build(), body)).eTag());
                bytesReadFromSource.add(object.contentLength());
                String sent = HexFormat.of().formatHex(md5.digest());
                if (object.eTagIsMd5() && !sent.equals(object.eTag())) {
                    throw new IntegrityException("bytes read from the source have MD5 " + sent + " but its ETag is " + object.eTag());
                }
                verifyEtag(stored, sent, "object", mismatches);
                return object.contentLength();
            }
        });
    }

    /**
     * The site's service copies the version itself ({@code CopyObject} of this exact source version, and only while its
     * ETag is the one read: {@code x-amz-copy-source-if-match}): the content headers and the replica's metadata are set
     * as a streamed copy sets them, the tags come with the copy (tagging directive COPY).
     */
    private long copyWholeServerSide(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
                                     Set<String> mismatches) throws Exception {
        AnswerLost lost = new AnswerLost();
        return retrier.call(budget, () -> {
            SourceObject object = SourceObject.of(fromSource("HEAD", () -> source.headObject(r -> r
                    .bucket(entry.bucket()).key(entry.objectKey()).versionId(version))));
            refuseReplica(object);
            if (lost.workThere(() -> replicaOf(bucket, key, version, object.contentLength())
                    .filter(h -> !object.eTagIsMd5() || object.eTag().equals(SourceObject.unquote(h.eTag()))).isPresent())) {
                return object.contentLength();
            }
            CopyObjectRequest copy = CopyObjectRequest.builder()
                    .sourceBucket(entry.bucket()).sourceKey(entry.objectKey()).sourceVersionId(version)
                    .copySourceIfMatch("\"" + object.eTag() + "\"")
                    .destinationBucket(bucket).destinationKey(key)
                    .metadataDirective(MetadataDirective.REPLACE).metadata(replicaMetadata(object, entry, version))
                    .contentType(object.contentType()).cacheControl(object.cacheControl())
                    .contentDisposition(object.contentDisposition()).contentEncoding(object.contentEncoding())
                    .contentLanguage(object.contentLanguage()).expires(object.expires())
                    .taggingDirective(TaggingDirective.COPY)
                    .build();
            String stored = SourceObject.unquote(lost.noting(() -> destination.copyObject(copy)).copyObjectResult().eTag());
            if (object.eTagIsMd5()) {
                verifyEtag(stored, object.eTag(), "object (copied by the site)", mismatches);
            }
            return object.contentLength();
        });
    }

    private long copyInParts(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
                             Set<String> mismatches, Instant deadline) throws Exception {
        SourceObject object = retrier.call(budget, () -> SourceObject.of(fromSource("HEAD", () -> source.headObject(r -> r
                .bucket(entry.bucket()).key(entry.objectKey()).versionId(version)))));
        refuseReplica(object);
        CopyProgress resumed = resumableCopy(entry, version, object, bucket, key);
        try {
            return copyInParts(budget, entry, version, bucket, key, mismatches, deadline, object, resumed);
        } catch (S3Exception gone) {
            // NoSuchUpload: modelled for some operations only, so read from the error code.
            if (resumed == null || gone.awsErrorDetails() == null || !"NoSuchUpload".equals(gone.awsErrorDetails().errorCode())) {
                throw gone;
            }
            // The site no longer has the upload (aborted by a lifecycle rule, or by hand): start over, once.
            LOG.warn("site {}: upload {} of {}/{} to resume is gone at the site; copying from the start", site.name(), resumed.uploadId(),
                    entry.bucket(), entry.objectKey());
            copyProgress.remove(site.name(), entry.bucket(), entry.objectKey());
            return copyInParts(budget, entry, version, bucket, key, mismatches, deadline, object, null);
        }
    }

    /**
     * The saved progress of this very copy (same source version and bytes, same destination, not expired), to resume;
     * else null, after aborting an upload another copy of the key left behind (an older version's, or an expired one).
     */
    private CopyProgress resumableCopy(ReplicationEntry entry, String version, SourceObject object, String bucket, String key) {
        if (copyProgress == null) {
            return null;
        }
        Optional<CopyProgress> saved = copyProgress.find(site.name(), entry.bucket(), entry.objectKey());
        if (saved.isEmpty()) {
            return null;
        }
        CopyProgress progress = saved.get();
        if (progress.isHold() && progress.versionId().equals(version)) {
            return null; // this version's place in line, kept while it waited: its copy starts now (and saves its own progress)
        }
        if (progress.isFor(version, object.eTag()) && !progress.expired(clock.instant())
                && progress.destinationBucket().equals(bucket) && progress.destinationKey().equals(key)) {
            return progress;
        }
        abort(progress.destinationBucket(), progress.destinationKey(), progress.uploadId());
        copyProgress.remove(site.name(), entry.bucket(), entry.objectKey());
        return null;
    }

    private long copyInParts(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
                             Set<String> mismatches, Instant deadline, SourceObject object, CopyProgress resumed) throws Exception {
        PartPlan plan = PartPlan.of(object.contentLength());
        CopyProgress progress = resumed;
        if (progress == null) {
            List<Tag> tags = retrier.call(budget, () -> sourceTags(entry, version));
            CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder().bucket(bucket).key(key)
                    .contentType(object.contentType()).cacheControl(object.cacheControl())
                    .contentDisposition(object.contentDisposition()).contentEncoding(object.contentEncoding())
                    .contentLanguage(object.contentLanguage()).expires(object.expires()).metadata(replicaMetadata(object, entry, version));
            if (!tags.isEmpty()) {
                create.tagging(Tagging.builder().tagSet(tags).build());
            }
            String created = retrier.call(budget, () -> destination.createMultipartUpload(create.build()).uploadId());
            Instant now = clock.instant();
            progress = new CopyProgress(site.name(), entry.bucket(), entry.objectKey(), version, object.eTag(), created, bucket, key,
                    List.of(), now, now.plus(settings.resumableUploadTtl()));
            if (copyProgress != null) {
                copyProgress.save(progress);
            }
        } else {
            LOG.info("site {}: resuming the copy of {}/{} version {} (upload {}): {} of {} parts done", site.name(), entry.bucket(),
                    entry.objectKey(), version, progress.uploadId(), progress.parts().size(), plan.parts().size());
        }
        String uploadId = progress.uploadId();
        CompletedPart[] completed = new CompletedPart[plan.parts().size()];
        byte[][] digests = new byte[plan.parts().size()][];
        for (CopyProgress.Part done : progress.parts()) {
            completed[done.number() - 1] = CompletedPart.builder().partNumber(done.number()).eTag(done.eTag()).build();
            digests[done.number() - 1] = HexFormat.of().parseHex(done.md5Hex());
        }
        PartsDone partsDone = new PartsDone(progress);
        boolean done = false;
        boolean resumable = false;
        try {
            long sent = uploadParts(budget, entry, version, bucket, key, uploadId, plan, completed, digests, mismatches, deadline, partsDone,
                    object.eTag());
            if (java.util.Arrays.stream(completed).anyMatch(java.util.Objects::isNull)) {
                resumable = true; // stopped for the deadline: every part done is saved, the upload stays for the next invocation
                long parts = java.util.Arrays.stream(completed).filter(java.util.Objects::nonNull).count();
                LOG.info("site {}: copy of {}/{} version {} stops for the invocation's deadline: {} of {} parts done ({} bytes this time)",
                        site.name(), entry.bucket(), entry.objectKey(), version, parts, plan.parts().size(), sent);
                throw new CopyDeferred("copy in progress: " + parts + " of " + plan.parts().size() + " parts done, resumes next invocation", sent);
            }
            AnswerLost lost = new AnswerLost();
            String stored = retrier.call(budget, () -> {
                // A completion whose answer never came may have made the replica: then the upload is gone, and the
                // replica is there (its ETag is then checked as any other).
                AtomicReference<String> thereETag = new AtomicReference<>();
                if (lost.workThere(() -> replicaOf(bucket, key, version, object.contentLength())
                        .map(h -> { thereETag.set(SourceObject.unquote(h.eTag())); return true; }).orElse(false))) {
                    return thereETag.get();
                }
                return SourceObject.unquote(lost.noting(() -> destination.completeMultipartUpload(r -> r
                        .bucket(bucket).key(key).uploadId(uploadId).multipartUpload(u -> u.parts(completed)))).eTag());
            });
            if (stored != null && stored.contains("-")) {
                MessageDigest ofDigests = md5();
                for (byte[] d : digests) {
                    ofDigests.update(d);
                }
                verifyEtag(stored, HexFormat.of().formatHex(ofDigests.digest()) + "-" + digests.length, "multipart object", mismatches);
            }
            done = true;
            return object.contentLength();
        } finally {
            if (!resumable && copyProgress != null) {
                copyProgress.remove(site.name(), entry.bucket(), entry.objectKey());
            }
            if (!done && !resumable) {
                abort(bucket, key, uploadId);
            }
        }
    }

    /** The copy's progress, saved after each part (parts finish in any order, on several threads). */
    private final class PartsDone {
        private CopyProgress progress;

        PartsDone(CopyProgress progress) {
            this.progress = progress;
        }

        synchronized void add(CopyProgress.Part part) {
            progress = progress.withPart(part);
            if (copyProgress != null) {
                copyProgress.save(progress);
            }
        }
    }

    /** A copy stopped for the deadline, its progress saved. */
    private static final class CopyDeferred extends RuntimeException {
        final long bytesThisTime;

        CopyDeferred(String message, long bytesThisTime) {
            super(message);
            this.bytesThisTime = bytesThisTime;
        }
    }

    /**
     * Uploads the parts not done yet, {@code partConcurrency} at once; with a deadline, a part is started only if it can
     * end before it (judged by the slowest part so far, or 2 s before any). Returns the bytes sent.
     */
    private long uploadParts(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key, String uploadId,
                             PartPlan plan, CompletedPart[] completed, byte[][] digests, Set<String> mismatches, Instant deadline,
                             PartsDone partsDone, String sourceETag) throws Exception {
        Semaphore permits = new Semaphore(settings.partConcurrency());
        AtomicBoolean failed = new AtomicBoolean();
        AtomicBoolean stopped = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong slowestPartMs = new java.util.concurrent.atomic.AtomicLong(2_000);
        java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        List<Future<Void>> futures = new ArrayList<>();
        try (ExecutorService parts = Executors.newVirtualThreadPerTaskExecutor()) {
            for (PartPlan.Part part : plan.parts()) {
                if (completed[part.number() - 1] != null) {
                    continue; // done by an earlier invocation
                }
                futures.add(parts.submit(() -> {
                    permits.acquire();
                    try {
                        if (deadline != null && clock.instant().plusMillis(slowestPartMs.get() * 3 / 2).isAfter(deadline)) {
                            stopped.set(true);
                        }
                        if (!failed.get() && !stopped.get()) {
                            long started = System.nanoTime();
                            uploadPart(budget, entry, version, bucket, key, uploadId, part, completed, digests, mismatches, partsDone,
                                    sourceETag);
                            sent.addAndGet(part.length());
                            slowestPartMs.accumulateAndGet((System.nanoTime() - started) / 1_000_000, Math::max);
                        }
                        return null;
                    } catch (Exception e) {
                        failed.set(true);
                        throw e;
                    } finally {
                        permits.release();
                    }
                }));
            }
            for (Future<Void> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            }
        }
        return sent.get();
    }

    private void uploadPart(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key, String uploadId,
                            PartPlan.Part part, CompletedPart[] completed, byte[][] digests, Set<String> mismatches,
                            PartsDone partsDone, String sourceETag) throws Exception {
        if (serverSideCopy) {
            copyPart(budget, entry, version, bucket, key, uploadId, part, completed, digests, partsDone, sourceETag);
            return;
        }
        retrier.call(budget, () -> {
            ResponseInputStream<GetObjectResponse> data = fromSource("GET " + part.range(), () -> source.getObject(r -> r
                    .bucket(entry.bucket()).key(entry.objectKey()).versionId(version).range(part.range())));
            try (data) {
                MessageDigest md5 = md5();
                UploadPartResponse uploaded = destination.uploadPart(r -> r.bucket(bucket).key(key).uploadId(uploadId)
                                .partNumber(part.number()).contentLength(part.length()),
                        RequestBody.fromInputStream(new DigestInputStream(data, md5), part.length()));
                byte[] digest = md5.digest();
                bytesReadFromSource.add(part.length());
                verifyEtag(SourceObject.unquote(uploaded.eTag()), HexFormat.of().formatHex(digest), "part " + part.number(), mismatches);
                completed[part.number() - 1] = CompletedPart.builder().partNumber(part.number()).eTag(uploaded.eTag()).build();
                digests[part.number() - 1] = digest;
                partsDone.add(new CopyProgress.Part(part.number(), uploaded.eTag(), HexFormat.of().formatHex(digest)));
                CrashPoints.reached(CrashPoints.Point.PART_UPLOADED);
                return null;
            }
        });
    }

    /**
     * One part copied by the site's service ({@code UploadPartCopy} of the part's range of this exact source version,
     * while its ETag is the one read). The part's ETag, the MD5 of its bytes, stands for the digest a streamed part
     * computes, so the completed object's ETag is checked the same way.
     */
    private void copyPart(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key, String uploadId,
                          PartPlan.Part part, CompletedPart[] completed, byte[][] digests, PartsDone partsDone, String sourceETag)
            throws Exception {
        retrier.call(budget, () -> {
            UploadPartCopyResponse copied = destination.uploadPartCopy(r -> r.sourceBucket(entry.bucket()).sourceKey(entry.objectKey())
                    .sourceVersionId(version).copySourceIfMatch("\"" + sourceETag + "\"").copySourceRange(part.range())
                    .destinationBucket(bucket).destinationKey(key).uploadId(uploadId).partNumber(part.number()));
            String eTag = copied.copyPartResult().eTag();
            String md5Hex = SourceObject.unquote(eTag).matches("[0-9a-f]{32}") ? SourceObject.unquote(eTag) : "";
            completed[part.number() - 1] = CompletedPart.builder().partNumber(part.number()).eTag(eTag).build();
            digests[part.number() - 1] = HexFormat.of().parseHex(md5Hex);
            partsDone.add(new CopyProgress.Part(part.number(), eTag, md5Hex));
            CrashPoints.reached(CrashPoints.Point.PART_UPLOADED);
            return null;
        });
    }

    private void retagReplica(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key, String replicaVersion)
            throws Exception {
        List<Tag> tags = retrier.call(budget, () -> sourceTags(entry, version));
        retrier.call(budget, () -> tags.isEmpty()
                ? destination.deleteObjectTagging(r -> r.bucket(bucket).key(key).versionId(replicaVersion))
                : destination.putObjectTagging(r -> r.bucket(bucket).key(key).versionId(replicaVersion)
                .tagging(t -> t.tagSet(tags))));
    }

    private List<Tag> sourceTags(ReplicationEntry entry, String version) {
        return fromSource("GET tagging", () -> source.getObjectTagging(r -> r.bucket(entry.bucket())
                .key(entry.objectKey()).versionId(version)).tagSet());
    }

    private static Map<String, String> replicaMetadata(SourceObject object, ReplicationEntry entry, String version) {
        Map<String, String> metadata = new HashMap<>(object.metadata());
        metadata.put(REPLICA_STATUS_META, "REPLICA");
        metadata.put(SOURCE_VERSION_META, version);
        if (entry.metadata().lastModified() != null) {
            metadata.put(SOURCE_LAST_MODIFIED_META, entry.metadata().lastModified());
        }
        return metadata;
    }

    /**
     * Checks the site's ETag against the MD5 of the bytes sent. A mismatch is retried (the bytes may have been
     * damaged on the way); the same mismatch for the same bytes again means the site's ETags are not content MD5s,
     * which no retry changes: that fails at once, saying which setting to change.
     */
    private void verifyEtag(String stored, String expected, String what, Set<String> mismatches) {
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

    private static void refuseReplica(SourceObject object) {
        if (object.isReplica()) {
            throw new NotReplicable("the source version is itself a replica (x-amz-meta-scal-replication-status: REPLICA); replicas are never replicated");
        }
    }

    private void abort(String bucket, String key, String uploadId) {
        if (uploadId == null) {
            return; // a hold: no upload was started
        }
        try {
            destination.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId));
        } catch (SdkException e) {
            LOG.warn("site {}: could not abort multipart upload {} of {}/{}: {}", site.name(), uploadId, bucket, key, e.toString());
        }
    }

    private static <T> T fromSource(String what, java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (SdkException e) {
            throw new SourceReadException(what + " from the source", e);
        }
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The version must not be replicated; the message says why. */
    private static final class NotReplicable extends RuntimeException {
        NotReplicable(String message) {
            super(message);
        }
    }
}
