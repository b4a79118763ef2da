package io.backbeatserverless.verifier;

import io.backbeatserverless.adapters.aws.S3InventoryReports;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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

    /** Writes one file's rows of one shard (the same name when a step is replayed: written again, same rows). */
    void putFragment(String runId, String bucket, int shard, int file, byte[] gzipped) {
        sourceClient.putObject(r -> r.bucket(sourceLocation.bucket()).key(shardFolder(runId, bucket, shard) + String.format("%06d.gz", file)),
                RequestBody.fromBytes(gzipped));
    }

    /** The fragments of a shard, each read whole. */
    List<byte[]> fragments(String runId, String bucket, int shard) {
        List<byte[]> fragments = new ArrayList<>();
        for (S3Object object : sourceClient.listObjectsV2Paginator(r -> r.bucket(sourceLocation.bucket()).prefix(shardFolder(runId, bucket, shard)))
                .contents()) {
            fragments.add(sourceClient.getObjectAsBytes(r -> r.bucket(sourceLocation.bucket()).key(object.key())).asByteArray());
        }
        return fragments;
    }

    /** Removes a shard's fragments once it is compared (a few: one per data file that had rows for it). */
    void removeShard(String runId, String bucket, int shard) {
        for (S3Object object : sourceClient.listObjectsV2Paginator(r -> r.bucket(sourceLocation.bucket()).prefix(shardFolder(runId, bucket, shard)))
                .contents()) {
            sourceClient.deleteObject(r -> r.bucket(sourceLocation.bucket()).key(object.key()));
        }
    }
}
