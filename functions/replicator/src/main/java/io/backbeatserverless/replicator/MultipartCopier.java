package io.backbeatserverless.replicator;

import io.backbeatserverless.adapters.config.ReplicatorSettings;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.crash.CrashPoints;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.retry.Retrier;
import io.backbeatserverless.core.transfer.CopyProgress;
import io.backbeatserverless.core.transfer.CopyProgressStore;
import io.backbeatserverless.core.transfer.PartPlan;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.Tagging;
import software.amazon.awssdk.services.s3.model.UploadPartCopyResponse;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The copy of a version from the multipart threshold on: Backbeat's part sizing ({@link PartPlan}), each part a ranged GET
 * streamed into an UploadPart (or an UploadPartCopy the site serves itself), several at once, the whole-object ETag checked
 * from the parts' MD5s. Resumable: its progress is saved after every part ({@link CopyProgressStore}), so a copy cut short
 * by the invocation's deadline (then {@link CopyDeferred}) or by a crash resumes after its last part done; an upload that
 * will not be resumed is aborted.
 */
final class MultipartCopier {

    private static final Logger LOG = LoggerFactory.getLogger(MultipartCopier.class);

    private final SiteConfig site;
    private final ReplicaSite replicas;
    private final S3Client source;
    private final S3Client destination;
    private final ReplicatorSettings settings;
    private final Retrier retrier;
    private final java.util.function.UnaryOperator<String> sourceVersionId;
    private final CopyProgressStore copyProgress;
    private final Clock clock;
    private final boolean serverSideCopy;
    private final LongAdder bytesReadFromSource;

    /** @param sourceVersionId the source API's spelling of an entry's version id */
    MultipartCopier(SiteConfig site, ReplicaSite replicas, S3Client source, S3Client destination, ReplicatorSettings settings,
                    Retrier retrier, java.util.function.UnaryOperator<String> sourceVersionId, CopyProgressStore copyProgress, Clock clock,
                    boolean serverSideCopy, LongAdder bytesReadFromSource) {
        this.site = site;
        this.replicas = replicas;
        this.source = source;
        this.destination = destination;
        this.settings = settings;
        this.retrier = retrier;
        this.sourceVersionId = sourceVersionId;
        this.copyProgress = copyProgress;
        this.clock = clock;
        this.serverSideCopy = serverSideCopy;
        this.bytesReadFromSource = bytesReadFromSource;
    }


    /**
     * Once a version's outcome is final (completed, skipped: the source version gone, superseded; failed), no copy of it
     * is in progress any more: its upload, if one is left, is aborted and its progress removed, so that the later
     * versions of its key, which wait behind a copy in progress, are not held forever. (A completed copy has removed
     * its progress already: one read.)
     */
    void forgetCopy(ReplicationEntry entry) {
        String version = sourceVersionId.apply(entry.versionId());
        try {
            copyProgress.find(site.name(), entry.bucket(), entry.objectKey()).filter(p -> p.versionId().equals(version)).ifPresent(p -> {
                replicas.abort(p.destinationBucket(), p.destinationKey(), p.uploadId());
                copyProgress.remove(site.name(), entry.bucket(), entry.objectKey());
            });
        } catch (SdkException e) {
            // Left for the next outcome of the key, or for the progress's expiry.
            LOG.warn("site {}: could not clear the copy progress of {}/{}: {}", site.name(), entry.bucket(), entry.objectKey(), e.toString());
        }
    }

    long copy(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
              Set<String> mismatches, Instant deadline) throws Exception {
        SourceObject object = retrier.call(budget, () -> replicas.headSource(entry, version));
        ReplicaSite.refuseReplica(object);
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
        if (progress.isFor(version, object.eTag()) && !progress.expired(clock.instant())
                && progress.destinationBucket().equals(bucket) && progress.destinationKey().equals(key)) {
            return progress;
        }
        replicas.abort(progress.destinationBucket(), progress.destinationKey(), progress.uploadId());
        copyProgress.remove(site.name(), entry.bucket(), entry.objectKey());
        return null;
    }

    private long copyInParts(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
                             Set<String> mismatches, Instant deadline, SourceObject object, CopyProgress resumed) throws Exception {
        PartPlan plan = PartPlan.of(object.contentLength());
        ReplicaProtection protection = replicas.protection(object);
        CopyProgress progress = resumed;
        if (progress == null) {
            List<Tag> tags = retrier.call(budget, () -> replicas.sourceTags(entry, version));
            CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder().bucket(bucket).key(key)
                    .contentType(object.contentType()).cacheControl(object.cacheControl())
                    .contentDisposition(object.contentDisposition()).contentEncoding(object.contentEncoding())
                    .contentLanguage(object.contentLanguage()).expires(object.expires()).metadata(ReplicaSite.replicaMetadata(object, entry, version));
            if (!tags.isEmpty()) {
                create.tagging(Tagging.builder().tagSet(tags).build());
            }
            protection.applyTo(create);
            String created = retrier.call(budget, () -> replicas.writing(protection, bucket,
                    () -> destination.createMultipartUpload(create.build()).uploadId()));
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
                    object.eTag(), !protection.eTagNotMd5());
            if (java.util.Arrays.stream(completed).anyMatch(java.util.Objects::isNull)) {
                resumable = true; // stopped for the deadline: every part done is saved, the upload stays for the next invocation
                long parts = java.util.Arrays.stream(completed).filter(java.util.Objects::nonNull).count();
                LOG.info("site {}: copy of {}/{} version {} stops for the invocation's deadline: {} of {} parts done ({} bytes this time)",
                        site.name(), entry.bucket(), entry.objectKey(), version, parts, plan.parts().size(), sent);
                throw new CopyDeferred("copy in progress: " + parts + " of " + plan.parts().size() + " parts done, resumes next invocation", sent);
            }
            ReplicaSite.AnswerLost lost = new ReplicaSite.AnswerLost();
            String stored = retrier.call(budget, () -> {
                // A completion whose answer never came may have made the replica: then the upload is gone, and the
                // replica is there (its ETag is then checked as any other).
                AtomicReference<String> thereETag = new AtomicReference<>();
                if (lost.workThere(() -> replicas.replicaOf(bucket, key, version, object.contentLength())
                        .map(h -> { thereETag.set(SourceObject.unquote(h.eTag())); return true; }).orElse(false))) {
                    return thereETag.get();
                }
                return SourceObject.unquote(lost.noting(() -> destination.completeMultipartUpload(r -> r
                        .bucket(bucket).key(key).uploadId(uploadId).multipartUpload(u -> u.parts(completed)))).eTag());
            });
            if (stored != null && stored.contains("-") && !protection.eTagNotMd5()) {
                MessageDigest ofDigests = ReplicaSite.md5();
                for (byte[] d : digests) {
                    ofDigests.update(d);
                }
                replicas.verifyEtag(stored, HexFormat.of().formatHex(ofDigests.digest()) + "-" + digests.length, "multipart object", mismatches);
            }
            done = true;
            return object.contentLength();
        } finally {
            if (!resumable && copyProgress != null) {
                copyProgress.remove(site.name(), entry.bucket(), entry.objectKey());
            }
            if (!done && !resumable) {
                replicas.abort(bucket, key, uploadId);
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
    static final class CopyDeferred extends RuntimeException {
        final long bytesThisTime;

        CopyDeferred(String message, long bytesThisTime) {
            super(message);
            this.bytesThisTime = bytesThisTime;
        }
    }

    /**
     * Uploads the parts not done yet, {@code partConcurrency} at once, started in part order (a permit is taken before a
     * part's thread is started, so a copy stopped early has done a prefix of its parts, the way an operator reads "2 of 5
     * parts done"); with a deadline, a part is started only if it can end before it (judged by the slowest part so far, or
     * 2 s before any). Returns the bytes sent.
     */
    private long uploadParts(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key, String uploadId,
                             PartPlan plan, CompletedPart[] completed, byte[][] digests, Set<String> mismatches, Instant deadline,
                             PartsDone partsDone, String sourceETag, boolean eTagsAreMd5) throws Exception {
        Semaphore permits = new Semaphore(settings.partConcurrency());
        AtomicBoolean failed = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong slowestPartMs = new java.util.concurrent.atomic.AtomicLong(2_000);
        java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        List<Future<Void>> futures = new ArrayList<>();
        try (ExecutorService parts = Executors.newVirtualThreadPerTaskExecutor()) {
            for (PartPlan.Part part : plan.parts()) {
                if (completed[part.number() - 1] != null) {
                    continue; // done by an earlier invocation
                }
                permits.acquire();
                if (failed.get() || deadline != null && clock.instant().plusMillis(slowestPartMs.get() * 3 / 2).isAfter(deadline)) {
                    permits.release();
                    break;
                }
                futures.add(parts.submit(() -> {
                    try {
                        long started = System.nanoTime();
                        uploadPart(budget, entry, version, bucket, key, uploadId, part, completed, digests, mismatches, partsDone,
                                sourceETag, eTagsAreMd5);
                        sent.addAndGet(part.length());
                        slowestPartMs.accumulateAndGet((System.nanoTime() - started) / 1_000_000, Math::max);
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
                            PartsDone partsDone, String sourceETag, boolean eTagsAreMd5) throws Exception {
        if (serverSideCopy) {
            copyPart(budget, entry, version, bucket, key, uploadId, part, completed, digests, partsDone, sourceETag);
            return;
        }
        retrier.call(budget, () -> {
            ResponseInputStream<GetObjectResponse> data = ReplicaSite.fromSource("GET " + part.range(), () -> source.getObject(r -> r
                    .bucket(entry.bucket()).key(entry.objectKey()).versionId(version).range(part.range())));
            try (data) {
                MessageDigest md5 = ReplicaSite.md5();
                UploadPartResponse uploaded = destination.uploadPart(r -> r.bucket(bucket).key(key).uploadId(uploadId)
                                .partNumber(part.number()).contentLength(part.length()),
                        RequestBody.fromInputStream(new DigestInputStream(data, md5), part.length()));
                byte[] digest = md5.digest();
                bytesReadFromSource.add(part.length());
                if (eTagsAreMd5) {
                    replicas.verifyEtag(SourceObject.unquote(uploaded.eTag()), HexFormat.of().formatHex(digest), "part " + part.number(), mismatches);
                }
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
}
