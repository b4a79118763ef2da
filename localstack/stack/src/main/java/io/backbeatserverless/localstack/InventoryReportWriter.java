package io.backbeatserverless.localstack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;

/**
 * Writes an S3 Inventory report of a bucket as S3 delivers one, for the local servers, which make none (S3 User Guide:
 * storage-inventory-location.html for the layout, storage-inventory.html for the fields): gzipped CSV data files under
 * {@code <prefix>/<bucket>/<id>/data/}, no header row, every value quoted, the key URL-encoded with a space as {@code +};
 * {@code manifest.json} naming the schema and each file with its MD5, and {@code manifest.checksum} (the manifest's MD5)
 * under a dated folder. The rows are shuffled across the files: S3 documents no order, and a reader must not need one.
 */
public final class InventoryReportWriter {

    static final String SCHEMA = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag";
    private static final ObjectMapper JSON = new ObjectMapper();

    private InventoryReportWriter() {
    }

    /** Lists {@code bucket} through {@code store} and writes its report through {@code delivery} to {@code destination}/{@code prefix}. */
    public static void write(S3Client store, String bucket, S3Client delivery, String destination, String prefix, String configurationId,
                      int files, Instant at) {
        List<String> rows = new ArrayList<>();
        for (var page : store.listObjectVersionsPaginator(r -> r.bucket(bucket))) {
            page.versions().forEach(v -> rows.add(row(bucket, v.key(), v.versionId(), v.isLatest(), false, Long.toString(v.size()),
                    v.lastModified(), v.eTag().replace("\"", ""))));
            page.deleteMarkers().forEach(m -> rows.add(row(bucket, m.key(), m.versionId(), m.isLatest(), true, "", m.lastModified(), "")));
        }
        Collections.shuffle(rows, new Random(42));
        String folder = prefix + "/" + bucket + "/" + configurationId + "/";
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("sourceBucket", bucket);
        manifest.put("destinationBucket", "arn:aws:s3:::" + destination);
        manifest.put("version", "2016-11-30");
        manifest.put("creationTimestamp", Long.toString(at.toEpochMilli()));
        manifest.put("fileFormat", "CSV");
        manifest.put("fileSchema", SCHEMA);
        var listed = manifest.putArray("files");
        for (int f = 0; f < files; f++) {
            StringBuilder csv = new StringBuilder();
            for (int i = f; i < rows.size(); i += files) {
                csv.append(rows.get(i)).append('\n');
            }
            byte[] gzipped = gzip(csv.toString());
            String key = folder + "data/" + UUID.randomUUID() + ".csv.gz";
            delivery.putObject(r -> r.bucket(destination).key(key), RequestBody.fromBytes(gzipped));
            listed.addObject().put("key", key).put("size", gzipped.length).put("MD5checksum", md5(gzipped));
        }
        String dated = folder + DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm'Z'").withZone(ZoneOffset.UTC).format(at) + "/";
        byte[] manifestBytes = manifest.toString().getBytes(StandardCharsets.UTF_8);
        delivery.putObject(r -> r.bucket(destination).key(dated + "manifest.json"), RequestBody.fromBytes(manifestBytes));
        delivery.putObject(r -> r.bucket(destination).key(dated + "manifest.checksum"), RequestBody.fromString(md5(manifestBytes)));
    }

    private static String row(String bucket, String key, String versionId, boolean latest, boolean marker, String size, Instant modified,
                              String eTag) {
        return String.join(",", quoted(bucket), quoted(URLEncoder.encode(key, StandardCharsets.UTF_8)), quoted(versionId),
                quoted(Boolean.toString(latest)), quoted(Boolean.toString(marker)), quoted(size), quoted(modified.toString()), quoted(eTag));
    }

    private static String quoted(String value) {
        return "\"" + value.replace("\"", "\"\"") + "\"";
    }

    private static byte[] gzip(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
            zip.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String md5(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
