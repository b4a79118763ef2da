package io.backbeatserverless.replicator;

import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.retry.Retrier;
import io.backbeatserverless.replicator.ReplicationErrors.IntegrityException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.Tagging;
import software.amazon.awssdk.services.s3.model.TaggingDirective;

import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * The two copies of a version below the multipart threshold: streamed through this function (a GET of the source into a
 * PUT at the site, the MD5 of the bytes checked against both ETags), or by the site's own service ({@code CopyObject})
 * when it can read the source. Each is one request at the site, retried under the {@link Retrier}; one whose answer was
 * lost looks whether the replica is there before it is sent again.
 */
final class WholeObjectCopier {

    private static final long SMALL_BODY_BYTES = 1 << 20;

    private final ReplicaSite replicas;
    private final S3Client source;
    private final S3Client destination;
    private final Retrier retrier;
    private final LongAdder bytesReadFromSource;

    WholeObjectCopier(ReplicaSite replicas, S3Client source, S3Client destination, Retrier retrier, LongAdder bytesReadFromSource) {
        this.replicas = replicas;
        this.source = source;
        this.destination = destination;
        this.retrier = retrier;
        this.bytesReadFromSource = bytesReadFromSource;
    }


    /**
     * What a backfill page's copy of a key missing at the site makes its writes conditional on (issue 29): the first,
     * that the key still has no current object ({@code If-None-Match: *}); each next one, that the current object is
     * still the replica written just before ({@code If-Match}). A live version written meanwhile fails the condition (412),
     * and the key's rest goes through the live path's one-version-at-a-time decision, so an older version never lands
     * over it. S3 takes both on PutObject and CopyObject: https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
     */
    record WriteCondition(boolean absent, String eTag) {
        static final WriteCondition NONE = new WriteCondition(false, null);

        static WriteCondition keyAbsent() {
            return new WriteCondition(true, null);
        }

        static WriteCondition currentIs(String eTag) {
            return new WriteCondition(false, eTag);
        }

        String ifNoneMatch() {
            return absent ? "*" : null;
        }

        String ifMatch() {
            return eTag == null ? null : "\"" + eTag + "\"";
        }
    }

    /** A copy done: bytes written, and the ETag the site gave the replica. */
    record Copied(long bytes, String eTag) {
    }

    long copyStreamed(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
                      Set<String> mismatches) throws Exception {
        return copyStreamed(budget, entry, version, bucket, key, mismatches, WriteCondition.NONE).bytes();
    }

    Copied copyStreamed(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
                        Set<String> mismatches, WriteCondition condition) throws Exception {
        ReplicaSite.AnswerLost lost = new ReplicaSite.AnswerLost();
        return retrier.call(budget, () -> {
            ResponseInputStream<GetObjectResponse> data = ReplicaSite.fromSource("GET", () -> source.getObject(r -> r
                    .bucket(entry.bucket()).key(entry.objectKey()).versionId(version)));
            try (data) {
                SourceObject object = SourceObject.of(data.response());
                ReplicaSite.refuseReplica(object);
                // A PUT whose answer never came may have stored the replica: a second one would be a duplicate version.
                var there = lost.workThere(() -> replicas.replicaOf(bucket, key, version, object.contentLength())
                        .filter(h -> !object.eTagIsMd5() || object.eTag().equals(SourceObject.unquote(h.eTag()))).isPresent());
                if (there) {
                    return new Copied(object.contentLength(), object.eTag());
                }
                List<Tag> tags = object.tagCount() != null && object.tagCount() > 0 ? replicas.sourceTags(entry, version) : List.of();
                MessageDigest md5 = ReplicaSite.md5();
                PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(bucket).key(key)
                        .contentLength(object.contentLength()).contentType(object.contentType())
                        .cacheControl(object.cacheControl()).contentDisposition(object.contentDisposition())
                        .contentEncoding(object.contentEncoding()).contentLanguage(object.contentLanguage())
                        .expires(object.expires()).metadata(ReplicaSite.replicaMetadata(object, entry, version))
                        .ifNoneMatch(condition.ifNoneMatch()).ifMatch(condition.ifMatch());
                if (!tags.isEmpty()) {
                    put.tagging(Tagging.builder().tagSet(tags).build());
                }
                ReplicaProtection protection = replicas.protection(object);
                // Up to 1 MiB the body is read whole: a byte array is signed in one pass, while a stream is sent
                // aws-chunked with a signature per chunk (costly per small object); larger bodies stay streamed.
                InputStream digested = new DigestInputStream(data, md5);
                byte[] whole = object.contentLength() <= SMALL_BODY_BYTES ? digested.readAllBytes() : null;
                RequestBody body = whole != null ? RequestBody.fromBytes(whole) : RequestBody.fromInputStream(digested, object.contentLength());
                // The body's MD5 before it is sent: of the bytes read whole, or the source's ETag where that is their MD5.
                String contentMd5 = whole != null ? java.util.Base64.getEncoder().encodeToString(ReplicaSite.md5().digest(whole))
                        : object.eTagIsMd5() ? java.util.Base64.getEncoder().encodeToString(HexFormat.of().parseHex(object.eTag())) : null;
                protection.applyTo(put, contentMd5);
                String stored = SourceObject.unquote(lost.noting(() -> replicas.writing(protection, bucket,
                        () -> destination.putObject(put.build(), body))).eTag());
                bytesReadFromSource.add(object.contentLength());
                String sent = HexFormat.of().formatHex(md5.digest());
                if (object.eTagIsMd5() && !sent.equals(object.eTag())) {
                    throw new IntegrityException("bytes read from the source have MD5 " + sent + " but its ETag is " + object.eTag());
                }
                if (!protection.eTagNotMd5()) {
                    replicas.verifyEtag(stored, sent, "object", mismatches);
                }
                return new Copied(object.contentLength(), stored);
            }
        });
    }

    /**
     * The site's service copies the version itself ({@code CopyObject} of this exact source version, and only while its
     * ETag is the one read: {@code x-amz-copy-source-if-match}): the content headers and the replica's metadata are set
     * as a streamed copy sets them, the tags come with the copy (tagging directive COPY).
     */
    long copyServerSide(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
                        Set<String> mismatches) throws Exception {
        return copyServerSide(budget, entry, version, bucket, key, mismatches, WriteCondition.NONE).bytes();
    }

    Copied copyServerSide(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket, String key,
                          Set<String> mismatches, WriteCondition condition) throws Exception {
        ReplicaSite.AnswerLost lost = new ReplicaSite.AnswerLost();
        return retrier.call(budget, () -> {
            SourceObject object = replicas.headSource(entry, version);
            ReplicaSite.refuseReplica(object);
            if (lost.workThere(() -> replicas.replicaOf(bucket, key, version, object.contentLength())
                    .filter(h -> !object.eTagIsMd5() || object.eTag().equals(SourceObject.unquote(h.eTag()))).isPresent())) {
                return new Copied(object.contentLength(), object.eTag());
            }
            ReplicaProtection protection = replicas.protection(object);
            CopyObjectRequest.Builder copy = CopyObjectRequest.builder()
                    .sourceBucket(entry.bucket()).sourceKey(entry.objectKey()).sourceVersionId(version)
                    .copySourceIfMatch("\"" + object.eTag() + "\"")
                    .destinationBucket(bucket).destinationKey(key)
                    .metadataDirective(MetadataDirective.REPLACE).metadata(ReplicaSite.replicaMetadata(object, entry, version))
                    .contentType(object.contentType()).cacheControl(object.cacheControl())
                    .contentDisposition(object.contentDisposition()).contentEncoding(object.contentEncoding())
                    .contentLanguage(object.contentLanguage()).expires(object.expires())
                    .taggingDirective(TaggingDirective.COPY)
                    .ifNoneMatch(condition.ifNoneMatch()).ifMatch(condition.ifMatch())
                    // What the site's bandwidth limit counts for it: the request does not say (BandwidthLimit).
                    .overrideConfiguration(o -> o.putExecutionAttribute(BandwidthLimit.COPIED_BYTES, object.contentLength()));
            protection.applyTo(copy);
            String stored = SourceObject.unquote(lost.noting(() -> replicas.writing(protection, bucket,
                    () -> destination.copyObject(copy.build()))).copyObjectResult().eTag());
            if (object.eTagIsMd5() && !protection.eTagNotMd5()) {
                replicas.verifyEtag(stored, object.eTag(), "object (copied by the site)", mismatches);
            }
            return new Copied(object.contentLength(), stored);
        });
    }
}
