package io.backbeatserverless.replicator;

import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

import java.time.Instant;
import java.util.Map;

/** What the source says of a version (from GET or HEAD): what a replica must carry besides the bytes. */
record SourceObject(long contentLength, String eTag, String contentType, String cacheControl,
                    String contentDisposition, String contentEncoding, String contentLanguage, Instant expires,
                    Map<String, String> metadata, Integer tagCount) {

    static SourceObject of(GetObjectResponse r) {
        return new SourceObject(r.contentLength(), unquote(r.eTag()), r.contentType(), r.cacheControl(), r.contentDisposition(),
                r.contentEncoding(), r.contentLanguage(), r.expires(), r.metadata(), r.tagCount());
    }

    static SourceObject of(HeadObjectResponse r) {
        return new SourceObject(r.contentLength(), unquote(r.eTag()), r.contentType(), r.cacheControl(), r.contentDisposition(),
                r.contentEncoding(), r.contentLanguage(), r.expires(), r.metadata(), null);
    }

    boolean isReplica() {
        return "REPLICA".equalsIgnoreCase(metadata.get(S3SiteReplicator.REPLICA_STATUS_META));
    }

    /** A single-part upload's ETag is the MD5 of its bytes; a multipart one's ends with "-<parts>". */
    boolean eTagIsMd5() {
        return eTag != null && eTag.length() == 32 && !eTag.contains("-");
    }

    static String unquote(String eTag) {
        return eTag == null ? null : eTag.replace("\"", "");
    }
}
