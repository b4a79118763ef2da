package io.backbeatserverless.replicator;

import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.rules.ReplicationRule;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.Tagging;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Replicates to an {@code aws_s3} site (AWS S3 or any S3-compatible store): the version's data is
 * streamed from the source GET into the destination PUT, with its content headers, user metadata
 * and tags; a delete marker becomes a DELETE on the versioned destination (which writes a delete
 * marker there). The replica carries Backbeat's markers, {@code x-amz-meta-scal-replication-status:
 * REPLICA} and {@code x-amz-meta-scal-version-id: <source version id>}, so it is never replicated
 * back and a retry can tell it is already there.
 */
public final class S3SiteReplicator implements SiteReplicator {

    public static final String REPLICA_STATUS_META = "scal-replication-status";
    public static final String SOURCE_VERSION_META = "scal-version-id";

    private final SiteConfig site;
    private final S3Client source;
    private final S3Client destination;

    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination) {
        this.site = site;
        this.source = source;
        this.destination = destination;
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry) {
        String ruleBucket = entry.metadata().replicationInfo().map(i -> ReplicationRule.bucketName(i.destination())).orElse(null);
        String bucket = site.destinationBucket(ruleBucket);
        if (bucket == null || bucket.isBlank()) {
            return ReplicationOutcome.failed("site '" + site.name() + "' has no bucket and the rule names no Destination.Bucket", 1);
        }
        String key = site.destinationKey(entry.bucket(), entry.objectKey());
        try {
            if (entry.metadata().isDeleteMarker()) {
                destination.deleteObject(r -> r.bucket(bucket).key(key));
                return ReplicationOutcome.completed(1, 0);
            }
            return ReplicationOutcome.completed(1, copyData(entry, bucket, key));
        } catch (SdkException e) {
            return ReplicationOutcome.failed(describe(e), 1);
        }
    }

    private long copyData(ReplicationEntry entry, String bucket, String key) {
        try (ResponseInputStream<GetObjectResponse> data = source.getObject(r -> r.bucket(entry.bucket())
                .key(entry.objectKey()).versionId(entry.versionId()))) {
            GetObjectResponse object = data.response();
            Map<String, String> userMetadata = new HashMap<>(object.metadata());
            userMetadata.put(REPLICA_STATUS_META, "REPLICA");
            userMetadata.put(SOURCE_VERSION_META, entry.versionId());
            PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(bucket).key(key)
                    .contentLength(object.contentLength())
                    .contentType(object.contentType())
                    .cacheControl(object.cacheControl())
                    .contentDisposition(object.contentDisposition())
                    .contentEncoding(object.contentEncoding())
                    .contentLanguage(object.contentLanguage())
                    .expires(object.expires())
                    .metadata(userMetadata);
            List<Tag> tags = tagsOf(entry, object);
            if (!tags.isEmpty()) {
                put.tagging(Tagging.builder().tagSet(tags).build());
            }
            destination.putObject(put.build(), RequestBody.fromInputStream(data, object.contentLength()));
            return object.contentLength();
        } catch (java.io.IOException e) {
            throw SdkException.create("reading the source object failed: " + e.getMessage(), e);
        }
    }

    private List<Tag> tagsOf(ReplicationEntry entry, GetObjectResponse object) {
        if (object.tagCount() == null || object.tagCount() == 0) {
            return List.of();
        }
        return source.getObjectTagging(r -> r.bucket(entry.bucket()).key(entry.objectKey()).versionId(entry.versionId())).tagSet();
    }

    private static String describe(SdkException e) {
        if (e instanceof software.amazon.awssdk.services.s3.model.S3Exception s3 && s3.awsErrorDetails() != null) {
            return s3.awsErrorDetails().errorCode() + " (HTTP " + s3.statusCode() + "): " + s3.awsErrorDetails().errorMessage();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
