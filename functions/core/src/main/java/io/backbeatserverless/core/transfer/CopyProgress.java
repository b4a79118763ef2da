package io.backbeatserverless.core.transfer;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How far a multipart copy of one source version to one site has come: what the next invocation needs to resume it
 * where it stopped, never from scratch. Saved after every part, so a deadline and a crash alike leave it usable.
 *
 * <p>A <em>hold</em> has no upload: entries of its key were put back on the topic at the invocation's deadline, the last
 * of them its version. It holds back the key's entries that were not put back (they are ahead of the put-back ones in the
 * partition, but come after them) until that last one has its outcome (issue 28: a version deferred so landed over its
 * key's newer delete marker). Kept apart from the key's copy in progress ({@link CopyProgressStore#holds}).
 *
 * @param site              the site copied to
 * @param bucket            the source bucket
 * @param objectKey         the source key
 * @param versionId         the source version copied (the source API's spelling)
 * @param sourceETag        its ETag when the copy started: a resume checks it is still the same bytes
 * @param uploadId          the site's multipart upload; null for a hold
 * @param destinationBucket the site's bucket
 * @param destinationKey    the site's key
 * @param parts             the parts done, each with the ETag the site gave and the MD5 of the bytes sent
 * @param startedAt         when the upload was created
 * @param expiresAt         after this the upload is abandoned (aborted) and a copy starts over
 */
public record CopyProgress(String site, String bucket, String objectKey, String versionId, String sourceETag, String uploadId,
                           String destinationBucket, String destinationKey, List<Part> parts, Instant startedAt, Instant expiresAt) {

    /** One part done. */
    public record Part(int number, String eTag, String md5Hex) {
    }

    public CopyProgress {
        parts = parts.stream().sorted(Comparator.comparingInt(Part::number)).toList();
    }

    /** The same progress with one more part done. */
    public CopyProgress withPart(Part part) {
        List<Part> more = new ArrayList<>(parts.stream().filter(p -> p.number() != part.number()).toList());
        more.add(part);
        return new CopyProgress(site, bucket, objectKey, versionId, sourceETag, uploadId, destinationBucket, destinationKey, more,
                startedAt, expiresAt);
    }

    /** A hold on the key until {@code versionId}, the last of its entries put back, has its outcome (or {@code expiresAt}). */
    public static CopyProgress hold(String site, String bucket, String objectKey, String versionId, Instant now, Instant expiresAt) {
        return new CopyProgress(site, bucket, objectKey, versionId, null, null, null, null, List.of(), now, expiresAt);
    }

    /** A hold, not a copy: no upload. */
    public boolean isHold() {
        return uploadId == null;
    }

    public boolean isFor(String otherVersionId, String otherSourceETag) {
        return versionId.equals(otherVersionId) && (sourceETag == null || sourceETag.equals(otherSourceETag));
    }

    public boolean expired(Instant now) {
        return expiresAt != null && !now.isBefore(expiresAt);
    }
}
