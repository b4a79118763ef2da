package io.backbeatserverless.replicator;

import io.backbeatserverless.core.retry.Retrier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.adapters.cloudserver.CloudServerBackbeatRoutes;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.metadata.CloudServerVersionIds;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.replicator.ReplicationErrors.IntegrityException;
import io.backbeatserverless.replicator.ReplicationErrors.SourceReadException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.function.UnaryOperator;

/**
 * Replicates to a CloudServer / Zenko site ({@code type: scality}) the way Backbeat does: the data
 * through {@code PUT /_/backbeat/data}, then the source version's whole metadata, with the returned
 * locations and status REPLICA, through {@code PUT /_/backbeat/metadata?versionId=<source version>},
 * so the replica keeps the source's version id. Delete markers and metadata-only changes (tags) are a
 * metadata write alone. The destination bucket is the rule's Destination.Bucket, or the site's bucket.
 * Version ids are CloudServer's internal ones (what its record log carries): this site type is for
 * CloudServer sources.
 */
public final class CloudServerSiteReplicator implements SiteReplicator {

    private final SiteConfig site;
    private final S3Client source;
    private final CloudServerBackbeatRoutes routes;
    private final Retrier retrier;
    private final UnaryOperator<String> sourceVersionId;

    CloudServerSiteReplicator(SiteConfig site, S3Client source, CloudServerBackbeatRoutes routes, Retrier retrier,
                              UnaryOperator<String> sourceVersionId) {
        this.site = site;
        this.source = source;
        this.routes = routes;
        this.retrier = retrier;
        this.sourceVersionId = sourceVersionId;
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry) {
        Retrier.Budget budget = retrier.newBudget();
        ObjectMetadata metadata = entry.metadata();
        String bucket = site.destinationBucket(metadata);
        if (bucket == null || bucket.isBlank()) {
            return ReplicationOutcome.noBucket(site.name());
        }
        String key = entry.objectKey();
        String externalVersion = CloudServerVersionIds.toExternal(entry.versionId());
        boolean metadataOnly = metadata.replicationInfo().map(ObjectMetadata.ReplicationInfo::isMetadataOnly).orElse(false);
        try {
            if (metadata.isDeleteMarker() || metadataOnly) {
                retrier.call(budget, () -> {
                    routes.putMetadata(bucket, key, externalVersion, metadata.asReplica(null).toString(), !metadata.isDeleteMarker());
                    return null;
                });
                return ReplicationOutcome.completed(budget.attempts(), 0);
            }
            ArrayNode locations = retrier.call(budget, () -> putData(entry, bucket, key));
            retrier.call(budget, () -> {
                routes.putMetadata(bucket, key, externalVersion, metadata.asReplica(locations).toString(), false);
                return null;
            });
            return ReplicationOutcome.completed(budget.attempts(), metadata.contentLength());
        } catch (Exception e) {
            return ReplicationOutcome.of(e, budget.attempts());
        }
    }

    /** Streams the version's bytes into the data route; returns the locations, completed as Backbeat does (size, start, ETag). */
    private ArrayNode putData(ReplicationEntry entry, String bucket, String key) throws Exception {
        ResponseInputStream<GetObjectResponse> data;
        try {
            data = source.getObject(r -> r.bucket(entry.bucket()).key(entry.objectKey())
                    .versionId(sourceVersionId.apply(entry.versionId())));
        } catch (SdkException e) {
            throw new SourceReadException("GET from the source", e);
        }
        try (data) {
            long length = data.response().contentLength();
            String md5 = entry.metadata().contentMd5();
            boolean md5Known = md5 != null && md5.matches("[0-9a-f]{32}");
            MessageDigest digest = MessageDigest.getInstance("MD5");
            JsonNode answer = routes.putData(bucket, key, new DigestInputStream(data, digest), length,
                    md5Known ? md5 : null, entry.metadata().toJson().path("owner-id").asText(null));
            String sent = HexFormat.of().formatHex(digest.digest());
            if (md5Known && !sent.equals(md5)) {
                throw new IntegrityException("bytes read from the source have MD5 " + sent + " but its metadata says " + md5);
            }
            ArrayNode locations = JsonNodeFactory.instance.arrayNode();
            long start = 0;
            for (JsonNode location : answer) {
                ObjectNode l = ((ObjectNode) location).deepCopy();
                if (!l.has("size")) {
                    l.put("size", answer.size() == 1 ? length : 0);
                }
                l.put("start", start);
                l.put("dataStoreETag", (locations.size() + 1) + ":" + sent);
                start += l.path("size").asLong();
                locations.add(l);
            }
            return locations;
        }
    }

    @Override
    public void close() {
        routes.close();
    }
}
