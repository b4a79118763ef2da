package io.backbeatserverless.adapters.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import io.backbeatserverless.core.versions.ListedVersion;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * S3 Inventory reports, read as verify's input for buckets too big to list (issue 29). Where S3 delivers them (User Guide,
 * storage-inventory-location.html): {@code <destination-prefix>/<source-bucket>/<config-ID>/<YYYY-MM-DDTHH-MMZ>/manifest.json},
 * with {@code manifest.checksum} (the manifest's MD5) beside it; the manifest names the report's data files, each with its
 * MD5. CSV reports only (ORC and Parquet need readers this project does not carry): gzipped, no header row, the columns in
 * the manifest's {@code fileSchema}, and the key URL-encoded, a space as {@code +} (storage-inventory.html: "the key name
 * is URL-encoded and must be decoded"). The rows of a data file come in no documented order, and a report's files split
 * no key range: a reader of a report must not expect either.
 */
public final class S3InventoryReports {

    /** The columns verify needs: Size and ETag are optional fields of an inventory configuration, which it must include. */
    public static final List<String> REQUIRED_COLUMNS = List.of("Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size",
            "LastModifiedDate", "ETag");

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Rows as arrays; the file's stream left open at its end, where the rest of it is read for its MD5. */
    private static final CsvMapper CSV = CsvMapper.builder().enable(CsvParser.Feature.WRAP_AS_ARRAY)
            .disable(com.fasterxml.jackson.core.StreamReadFeature.AUTO_CLOSE_SOURCE).build();
    private static final Pattern REPORT_TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}Z");

    /** Where a store's inventories are delivered: a bucket, and the configurations' destination prefix (may be empty). */
    public record Location(String bucket, String prefix) {

        /** {@code s3://bucket} or {@code s3://bucket/prefix}. */
        public static Location parse(String uri, String what) {
            if (uri == null || !uri.startsWith("s3://") || uri.length() == "s3://".length()) {
                throw new IllegalArgumentException(what + " must be an s3://bucket[/prefix] URI, not '" + uri + "'");
            }
            String rest = uri.substring("s3://".length());
            int slash = rest.indexOf('/');
            String bucket = slash < 0 ? rest : rest.substring(0, slash);
            String prefix = slash < 0 ? "" : rest.substring(slash + 1).replaceAll("/+$", "");
            return new Location(bucket, prefix);
        }

        /** The folder of one configuration's reports of one bucket. */
        String reportsOf(String bucket, String configurationId) {
            return (prefix.isEmpty() ? "" : prefix + "/") + bucket + "/" + configurationId + "/";
        }

        @Override
        public String toString() {
            return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
        }
    }

    /** One data file of a report, as its manifest names it. */
    public record DataFile(String key, long size, String md5) {
    }

    /**
     * A report: its manifest's key, the bucket it lists, when S3 started it (versions written after may be absent from
     * it), its columns and its data files (in {@link #location}'s bucket).
     */
    public record Manifest(Location location, String manifestKey, String sourceBucket, Instant createdAt, List<String> columns,
                           List<DataFile> files) {

        public long bytes() {
            return files.stream().mapToLong(DataFile::size).sum();
        }
    }

    private final S3Client s3;

    public S3InventoryReports(S3Client s3) {
        this.s3 = s3;
    }

    /**
     * The newest whole report of {@code bucket} by configuration {@code configurationId} at {@code location}: the latest
     * dated folder whose manifest is there and matches its checksum (a report still being delivered has neither yet).
     * Empty when there is none.
     *
     * @throws IllegalStateException a report that verify cannot read (not CSV, or without a column it needs), naming why
     */
    public Optional<Manifest> newest(Location location, String bucket, String configurationId) {
        String folder = location.reportsOf(bucket, configurationId);
        List<String> dated = new ArrayList<>();
        for (var page : s3.listObjectsV2Paginator(r -> r.bucket(location.bucket()).prefix(folder).delimiter("/"))) {
            for (CommonPrefix p : page.commonPrefixes()) {
                String name = p.prefix().substring(folder.length()).replaceAll("/$", "");
                if (REPORT_TIME.matcher(name).matches()) {
                    dated.add(p.prefix());
                }
            }
        }
        dated.sort(Comparator.reverseOrder());
        for (String report : dated) {
            Optional<Manifest> manifest = manifest(location, report + "manifest.json");
            if (manifest.isPresent()) {
                return manifest;
            }
        }
        return Optional.empty();
    }

    /** A report by its manifest's key, if it is there whole (its {@code manifest.checksum} beside it matches). */
    public Optional<Manifest> manifest(Location location, String manifestKey) {
        String checksumKey = manifestKey.substring(0, manifestKey.lastIndexOf('/') + 1) + "manifest.checksum";
        byte[] manifest;
        String checksum;
        try {
            manifest = s3.getObjectAsBytes(r -> r.bucket(location.bucket()).key(manifestKey)).asByteArray();
            ResponseBytes<GetObjectResponse> sum = s3.getObjectAsBytes(r -> r.bucket(location.bucket()).key(checksumKey));
            checksum = sum.asUtf8String().trim();
        } catch (NoSuchKeyException notYet) {
            return Optional.empty();
        }
        if (!md5(manifest).equalsIgnoreCase(checksum)) {
            return Optional.empty(); // being written, or damaged: the report before it is the newest whole one
        }
        JsonNode node;
        try {
            node = JSON.readTree(manifest);
        } catch (IOException e) {
            throw new IllegalStateException("inventory manifest s3://" + location.bucket() + "/" + manifestKey + " is not JSON: " + e.getMessage());
        }
        String where = "inventory report s3://" + location.bucket() + "/" + manifestKey;
        String format = node.path("fileFormat").asText("");
        if (!"CSV".equalsIgnoreCase(format)) {
            throw new IllegalStateException(where + " is in format '" + format + "': verify reads CSV reports (the inventory"
                    + " configuration's Format must be CSV)");
        }
        List<String> columns = new ArrayList<>();
        for (String column : node.path("fileSchema").asText("").split(",")) {
            columns.add(column.trim());
        }
        List<String> lacking = REQUIRED_COLUMNS.stream().filter(c -> !columns.contains(c)).toList();
        if (!lacking.isEmpty()) {
            throw new IllegalStateException(where + " has no column " + String.join(", ", lacking) + ": verify needs a report of"
                    + " all versions (IncludedObjectVersions All) with the optional fields Size, LastModifiedDate and ETag");
        }
        List<DataFile> files = new ArrayList<>();
        for (JsonNode file : node.path("files")) {
            files.add(new DataFile(file.path("key").asText(), file.path("size").asLong(), file.path("MD5checksum").asText(null)));
        }
        long createdMillis = node.path("creationTimestamp").asLong(0);
        return Optional.of(new Manifest(location, manifestKey, node.path("sourceBucket").asText(null), Instant.ofEpochMilli(createdMillis),
                List.copyOf(columns), List.copyOf(files)));
    }

    /**
     * Each row of one data file, as a listing entry (key decoded). The file's MD5 is checked once it is read whole: rows
     * of a damaged file have been handed over by then, so a caller keeps what it made of them only when this returns.
     */
    public void read(Manifest manifest, DataFile file, Consumer<ListedVersion> rows) {
        int key = manifest.columns().indexOf("Key");
        int versionId = manifest.columns().indexOf("VersionId");
        int latest = manifest.columns().indexOf("IsLatest");
        int marker = manifest.columns().indexOf("IsDeleteMarker");
        int size = manifest.columns().indexOf("Size");
        int modified = manifest.columns().indexOf("LastModifiedDate");
        int eTag = manifest.columns().indexOf("ETag");
        MessageDigest digest = md5Digest();
        try (ResponseInputStream<GetObjectResponse> object = s3.getObject(r -> r.bucket(manifest.location().bucket()).key(file.key()));
             InputStream counted = new DigestInputStream(object, digest);
             Reader reader = new InputStreamReader(new GZIPInputStream(counted, 64 * 1024), StandardCharsets.UTF_8);
             MappingIterator<String[]> lines = CSV.readerForArrayOf(String.class).readValues(reader)) {
            while (lines.hasNextValue()) {
                String[] f = lines.nextValue();
                if (f.length < manifest.columns().size()) {
                    throw new IllegalStateException("inventory data file s3://" + manifest.location().bucket() + "/" + file.key()
                            + " has a row of " + f.length + " fields where its manifest names " + manifest.columns().size());
                }
                String versionIdValue = f[versionId];
                rows.accept(new ListedVersion(URLDecoder.decode(f[key], StandardCharsets.UTF_8),
                        versionIdValue == null || versionIdValue.isEmpty() ? "null" : versionIdValue, Boolean.parseBoolean(f[marker]),
                        f[modified] == null || f[modified].isEmpty() ? null : Instant.parse(f[modified]), Boolean.parseBoolean(f[latest]),
                        f[size] == null || f[size].isEmpty() ? 0 : Long.parseLong(f[size]),
                        f[eTag] == null || f[eTag].isEmpty() ? null : f[eTag].replace("\"", "")));
            }
            counted.transferTo(java.io.OutputStream.nullOutputStream()); // the gzip trailer's bytes count in the file's MD5 too
        } catch (IOException e) {
            throw new UncheckedIOException("inventory data file s3://" + manifest.location().bucket() + "/" + file.key() + ": " + e.getMessage(), e);
        }
        String read = HexFormat.of().formatHex(digest.digest());
        if (file.md5() != null && !file.md5().equalsIgnoreCase(read)) {
            throw new IllegalStateException("inventory data file s3://" + manifest.location().bucket() + "/" + file.key() + " read with MD5 "
                    + read + " where its manifest says " + file.md5().toLowerCase(Locale.ROOT) + ": read again at the next step");
        }
    }

    private static String md5(byte[] bytes) {
        return HexFormat.of().formatHex(md5Digest().digest(bytes));
    }

    private static MessageDigest md5Digest() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
