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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
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
    private final BandwidthLimit bandwidth;

    CloudServerSiteReplicator(SiteConfig site, S3Client source, CloudServerBackbeatRoutes routes, Retrier retrier,
                              UnaryOperator<String> sourceVersionId) {
        this(site, source, routes, retrier, sourceVersionId, null);
    }

    /** @param bandwidth the site's bandwidth limit (null: none): each piece's bytes wait their turn before they are read */
    CloudServerSiteReplicator(SiteConfig site, S3Client source, CloudServerBackbeatRoutes routes, Retrier retrier,
                              UnaryOperator<String> sourceVersionId, BandwidthLimit bandwidth) {
        this.bandwidth = bandwidth;
        this.site = site;
        this.source = source;
        this.routes = routes;
        this.retrier = retrier;
        this.sourceVersionId = sourceVersionId;
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry) {
        return replicate(entry, null, null);
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry, java.time.Instant deadline, java.time.Instant setAsideAt) {
        Retrier.Budget budget = retrier.newBudget(setAsideAt);
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

    /**
     * Streams the version's bytes into the data route, piece by piece as the source's metadata locates them, and
     * returns the locations, completed as Backbeat does (size, start, {@code <part>:<md5>}). CloudServer's data route
     * wants each body's MD5: a multipart object's ETag is not one, so, as Backbeat does, each location of the source
     * (a part, with its own MD5 in {@code dataStoreETag}) is read by range and written on its own.
     */
    private ArrayNode putData(ReplicationEntry entry, String bucket, String key) throws Exception {
        List<Piece> pieces = Piece.of(entry.metadata());
        ArrayNode locations = JsonNodeFactory.instance.arrayNode();
        long start = 0;
        for (int i = 0; i < pieces.size(); i++) {
            Piece piece = pieces.get(i);
            ResponseInputStream<GetObjectResponse> data;
            if (bandwidth != null) {
                bandwidth.acquire(piece.size());
            }
            try {
                data = source.getObject(r -> {
                    r.bucket(entry.bucket()).key(entry.objectKey()).versionId(sourceVersionId.apply(entry.versionId()));
                    if (pieces.size() > 1) {
                        r.range("bytes=" + piece.start() + "-" + (piece.start() + piece.size() - 1));
                    }
                });
            } catch (SdkException e) {
                throw new SourceReadException("GET from the source", e);
            }
            try (data) {
                long length = data.response().contentLength();
                MessageDigest digest = MessageDigest.getInstance("MD5");
                JsonNode answer = routes.putData(bucket, key, new DigestInputStream(data, digest), length, piece.md5(),
                        entry.metadata().toJson().path("owner-id").asText(null));
                String sent = HexFormat.of().formatHex(digest.digest());
                if (piece.md5() != null && !sent.equals(piece.md5())) {
                    throw new IntegrityException("bytes read from the source" + (pieces.size() > 1 ? " for part " + (i + 1) : "")
                            + " have MD5 " + sent + " but its metadata says " + piece.md5());
                }
                for (JsonNode location : answer) {
                    ObjectNode l = ((ObjectNode) location).deepCopy();
                    if (!l.has("size")) {
                        l.put("size", answer.size() == 1 ? length : 0);
                    }
                    l.put("start", start);
                    l.put("dataStoreETag", (i + 1) + ":" + sent);
                    start += l.path("size").asLong();
                    locations.add(l);
                }
            }
        }
        return locations;
    }

    /** A stretch of the source object and its MD5 (null when its metadata gives none). */
    record Piece(long start, long size, String md5) {

        private static final java.util.regex.Pattern MD5 = java.util.regex.Pattern.compile("[0-9a-f]{32}");

        /**
         * The source's locations when there are several and they tile the object exactly, each with an MD5; else the
         * whole object, with the object's MD5 if it is one (a single PUT's).
         */
        static List<Piece> of(ObjectMetadata metadata) {
            JsonNode locations = metadata.toJson().path("location");
            if (locations.isArray() && locations.size() > 1) {
                List<Piece> pieces = new ArrayList<>();
                long next = 0;
                for (JsonNode location : locations) {
                    String eTag = location.path("dataStoreETag").asText("");
                    String md5 = eTag.substring(eTag.indexOf(':') + 1);
                    long size = location.path("size").asLong(-1);
                    if (!MD5.matcher(md5).matches() || location.path("start").asLong(-1) != next || size <= 0) {
                        pieces = null;
                        break;
                    }
                    pieces.add(new Piece(next, size, md5));
                    next += size;
                }
                if (pieces != null && next == metadata.contentLength()) {
                    return pieces;
                }
            }
            String md5 = metadata.contentMd5();
            return List.of(new Piece(0, metadata.contentLength(), md5 != null && MD5.matcher(md5).matches() ? md5 : null));
        }
    }

    @Override
    public void close() {
        routes.close();
    }
}
