package io.backbeatserverless.verifier;

import io.backbeatserverless.adapters.aws.S3InventoryReports;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import io.backbeatserverless.core.versions.ListedVersion;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The inventory reports verify reads (issue 29), configured by {@code ops.verifyInventory}: the source's buckets' reports
 * (read with the source's client) and each site's (read with that site's), all by one inventory configuration id; and the
 * place where a run keeps the shards it splits the reports into (beside the source's reports, under
 * {@value #WORK_FOLDER}, removed as each shard is compared; a lifecycle rule there removes what a cancelled run leaves).
 */
final class InventoryInput {

    private static final Logger LOG = LoggerFactory.getLogger(InventoryInput.class);
    static final String WORK_FOLDER = "backbeat-verify";

    private final BackbeatConfig.InventorySettings settings;
    private final S3Client sourceClient;
    private final S3InventoryReports source;
    private final S3InventoryReports.Location sourceLocation;
    private final Map<String, S3InventoryReports> sites;
    private final Map<String, S3InventoryReports.Location> siteLocations;

    InventoryInput(BackbeatConfig.InventorySettings settings, S3Client sourceClient, Map<String, S3Client> siteClients) {
        this.settings = settings;
        this.sourceClient = sourceClient;
        this.source = new S3InventoryReports(sourceClient);
        this.sourceLocation = S3InventoryReports.Location.parse(settings.source(), "ops.verifyInventory.source");
        this.sites = new java.util.HashMap<>();
        this.siteLocations = new java.util.HashMap<>();
        settings.sites().forEach((site, uri) -> {
            S3Client client = siteClients.get(site);
            if (client == null) {
                throw new IllegalArgumentException("ops.verifyInventory.sites names site '" + site + "', which is not one of sites[]");
            }
            sites.put(site, new S3InventoryReports(client));
            siteLocations.put(site, S3InventoryReports.Location.parse(uri, "ops.verifyInventory.sites." + site));
        });
    }

    long fromVersions() {
        return settings.fromVersions();
    }

    /** The source bucket's newest report; empty when it has none (or its location cannot be read: said in the log). */
    Optional<S3InventoryReports.Manifest> sourceReport(String bucket) {
        return newest(source, sourceLocation, bucket, "the source");
    }

    /** A site bucket's newest report; empty when the site has no reports configured, or none for that bucket yet. */
    Optional<S3InventoryReports.Manifest> siteReport(String site, String bucket) {
        S3InventoryReports reports = sites.get(site);
        return reports == null ? Optional.empty() : newest(reports, siteLocations.get(site), bucket, "site '" + site + "'");
    }

    private Optional<S3InventoryReports.Manifest> newest(S3InventoryReports reports, S3InventoryReports.Location location, String bucket,
                                                         String whose) {
        try {
            return reports.newest(location, bucket, settings.configurationId());
        } catch (RuntimeException e) {
            // Unreadable (no such bucket, denied) or unusable (not CSV, a column missing): the bucket is checked by its listings.
            LOG.warn("inventory reports of bucket '{}' at {} ({}) not used, the bucket is checked by its listings: {}", bucket, location,
                    whose, e.getMessage());
            return Optional.empty();
        }
    }

    /** A report again, by its manifest (as a run saved it). */
    S3InventoryReports.Manifest report(String site, String location, String manifestKey) {
        S3InventoryReports reports = site == null ? source : sites.get(site);
        if (reports == null) {
            throw new IllegalStateException("site '" + site + "' has no inventory reports configured any more (ops.verifyInventory.sites)");
        }
        return reports.manifest(S3InventoryReports.Location.parse(location, "a saved inventory location"), manifestKey)
                .orElseThrow(() -> new IllegalStateException("inventory report " + location + "/" + manifestKey + " is gone or damaged"));
    }

    S3InventoryReports readerFor(String site) {
        return site == null ? source : sites.get(site);
    }

    String sourceLocation() {
        return sourceLocation.toString();
    }

    String siteLocation(String site) {
        return siteLocations.get(site).toString();
    }

    /** Where a run keeps one shard of one bucket. */
    private String shardFolder(String runId, String bucket, int shard) {
        return workFolder(runId, bucket) + String.format("%05d/", shard);
    }

    private String workFolder(String runId, String bucket) {
        return (sourceLocation.prefix().isEmpty() ? "" : sourceLocation.prefix() + "/") + WORK_FOLDER + "/" + runId + "/" + bucket + "/";
    }

    /**
     * Where one data file's rows go, by shard (the key's hash), each shard's rows gzipped as they come; {@link ShardWriter#write},
     * once the file is read whole, writes a fragment per shard that has rows (the same names when a step is replayed:
     * written again, same rows).
     */
    ShardWriter shardWriter(String runId, String bucket, int file, int report, int shards) {
        return new ShardWriter(runId, bucket, file, report, shards);
    }

    final class ShardWriter {
        private final String runId;
        private final String bucket;
        private final int file;
        private final int report;
        private final java.io.ByteArrayOutputStream[] buffers;
        private final java.io.Writer[] writers;

        private ShardWriter(String runId, String bucket, int file, int report, int shards) {
            this.runId = runId;
            this.bucket = bucket;
            this.file = file;
            this.report = report;
            this.buffers = new java.io.ByteArrayOutputStream[shards];
            this.writers = new java.io.Writer[shards];
        }

        /** A row of the report, under the source key it is of (a site's rows: the replica key less the site's prefix). */
        void add(String key, ListedVersion row) {
            int shard = Math.floorMod(key.hashCode(), writers.length);
            try {
                if (writers[shard] == null) {
                    buffers[shard] = new java.io.ByteArrayOutputStream();
                    writers[shard] = new java.io.OutputStreamWriter(new GZIPOutputStream(buffers[shard]), StandardCharsets.UTF_8);
                }
                writers[shard].write(report + "\t" + URLEncoder.encode(key, StandardCharsets.UTF_8) + "\t" + row.versionId() + "\t"
                        + row.latest() + "\t" + row.deleteMarker() + "\t" + row.size() + "\t"
                        + (row.lastModified() == null ? "" : row.lastModified()) + "\t" + (row.eTag() == null ? "" : row.eTag()) + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void write() {
            for (int shard = 0; shard < writers.length; shard++) {
                if (writers[shard] == null) {
                    continue;
                }
                try {
                    writers[shard].close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                String key = shardFolder(runId, bucket, shard) + String.format("%06d.gz", file);
                byte[] bytes = buffers[shard].toByteArray();
                sourceClient.putObject(r -> r.bucket(sourceLocation.bucket()).key(key), RequestBody.fromBytes(bytes));
            }
        }
    }

    /** A shard's rows, by the index of the report they come from, then by source key. */
    Map<Integer, Map<String, List<ListedVersion>>> readShard(String runId, String bucket, int shard) {
        Map<Integer, Map<String, List<ListedVersion>>> rows = new HashMap<>();
        for (S3Object object : sourceClient.listObjectsV2Paginator(r -> r.bucket(sourceLocation.bucket()).prefix(shardFolder(runId, bucket, shard)))
                .contents()) {
            byte[] fragment = sourceClient.getObjectAsBytes(r -> r.bucket(sourceLocation.bucket()).key(object.key())).asByteArray();
            try (var lines = new BufferedReader(new InputStreamReader(new GZIPInputStream(new ByteArrayInputStream(fragment)),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    String[] f = line.split("\t", -1);
                    String key = URLDecoder.decode(f[1], StandardCharsets.UTF_8);
                    ListedVersion row = new ListedVersion(key, f[2], Boolean.parseBoolean(f[4]), f[6].isEmpty() ? null : Instant.parse(f[6]),
                            Boolean.parseBoolean(f[3]), Long.parseLong(f[5]), f[7].isEmpty() ? null : f[7]);
                    rows.computeIfAbsent(Integer.parseInt(f[0]), i -> new HashMap<>()).computeIfAbsent(key, k -> new ArrayList<>()).add(row);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return rows;
    }

    /** Removes a shard's fragments once it is compared (a few: one per data file that had rows for it). */
    void removeShard(String runId, String bucket, int shard) {
        for (S3Object object : sourceClient.listObjectsV2Paginator(r -> r.bucket(sourceLocation.bucket()).prefix(shardFolder(runId, bucket, shard)))
                .contents()) {
            sourceClient.deleteObject(r -> r.bucket(sourceLocation.bucket()).key(object.key()));
        }
    }
}
