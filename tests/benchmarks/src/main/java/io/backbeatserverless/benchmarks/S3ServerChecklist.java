package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.Endpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The S3 behaviours this project's tests and local stack rely on, checked against any S3-compatible server,
 * and what the server costs: 10,000 small PUTs and one large object (multipart up, streamed down), with the
 * server's resident memory before and after (given its PID). Used to choose the local stack's S3 server
 * (docs/local-runs.md): every check prints PASS or FAIL with what the server answered.
 */
@Command(name = "s3-server", mixinStandardHelpOptions = true,
        description = "Checks an S3-compatible server against the behaviours the stack relies on, and measures it.")
final class S3ServerChecklist implements Callable<Integer> {

    @Option(names = "--endpoint", required = true, description = "the server's URL")
    String endpoint;
    @Option(names = "--pid", description = "the server's process id, to report its resident memory")
    Long pid;
    @Option(names = "--small-puts", defaultValue = "10000", description = "4 KiB PUTs by 16 threads; 0 skips (default: ${DEFAULT-VALUE})")
    int smallPuts;
    @Option(names = "--large-mib", defaultValue = "0", description = "one object of this many MiB up (multipart, 64 MiB parts) and down (64 MiB ranges); 0 skips (default: ${DEFAULT-VALUE})")
    long largeMib;

    private final Map<String, String> results = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        try (S3Client s3 = AwsClients.s3(new Endpoint(endpoint, "us-east-1", "accessKey1", "verySecretKey1"), 32, false)) {
            String bucket = "checklist-" + Long.toHexString(System.nanoTime());
            s3.createBucket(r -> r.bucket(bucket));
            check("PutBucketVersioning Enabled", () -> {
                s3.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
                return expect("Enabled", s3.getBucketVersioning(r -> r.bucket(bucket)).statusAsString());
            });
            check("content headers kept (Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires, Content-Type)", () -> {
                Instant expires = Instant.parse("2030-01-01T00:00:00Z");
                s3.putObject(r -> r.bucket(bucket).key("headers").cacheControl("max-age=60").contentDisposition("attachment")
                        .contentEncoding("identity").contentLanguage("fr").expires(expires).contentType("text/plain"), RequestBody.fromString("x"));
                HeadObjectResponse head = s3.headObject(r -> r.bucket(bucket).key("headers"));
                return expect("max-age=60|attachment|identity|fr|" + expires + "|text/plain", head.cacheControl() + "|" + head.contentDisposition()
                        + "|" + head.contentEncoding() + "|" + head.contentLanguage() + "|" + head.expires() + "|" + head.contentType());
            });
            check("no Content-Type given: a real default, not absent or \"null\"", () -> {
                s3.putObject(r -> r.bucket(bucket).key("untyped"), RequestBody.fromBytes(new byte[] {1}));
                String type = s3.headObject(r -> r.bucket(bucket).key("untyped")).contentType();
                return type != null && !type.equals("null") && !type.isBlank() ? "PASS " + type : "FAIL " + type;
            });
            check("user metadata kept", () -> {
                s3.putObject(r -> r.bucket(bucket).key("meta").metadata(Map.of("color", "blue", "x-y", "z")), RequestBody.fromString("x"));
                return expect("{color=blue, x-y=z}", new java.util.TreeMap<>(s3.headObject(r -> r.bucket(bucket).key("meta")).metadata()).toString());
            });
            check("tags on a version", () -> {
                String v = s3.putObject(r -> r.bucket(bucket).key("tagged"), RequestBody.fromString("x")).versionId();
                s3.putObjectTagging(r -> r.bucket(bucket).key("tagged").versionId(v).tagging(t -> t.tagSet(s -> s.key("k").value("v"))));
                return expect("[k=v]", s3.getObjectTagging(r -> r.bucket(bucket).key("tagged").versionId(v)).tagSet().stream()
                        .map(t -> t.key() + "=" + t.value()).toList().toString());
            });
            check("versions: each PUT a new version, GET by version id", () -> {
                String v1 = s3.putObject(r -> r.bucket(bucket).key("versioned"), RequestBody.fromString("one")).versionId();
                String v2 = s3.putObject(r -> r.bucket(bucket).key("versioned"), RequestBody.fromString("two")).versionId();
                String first = s3.getObjectAsBytes(r -> r.bucket(bucket).key("versioned").versionId(v1)).asUtf8String();
                return expect("one|distinct", first + "|" + (v1 != null && !v1.equals(v2) ? "distinct" : "same " + v1));
            });
            check("delete marker: DELETE gives its id, HEAD of the key 404 with x-amz-delete-marker", () -> {
                var deleted = s3.deleteObject(r -> r.bucket(bucket).key("versioned"));
                try {
                    s3.headObject(r -> r.bucket(bucket).key("versioned"));
                    return "FAIL HEAD found the object";
                } catch (S3Exception e) {
                    String marker = e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-delete-marker").orElse("absent");
                    return expect("true|404|true", deleted.deleteMarker() + "|" + e.statusCode() + "|" + marker)
                            + (deleted.versionId() == null ? " (no version id)" : "");
                }
            });
            check("ListObjectVersions: versions and delete markers, latest flagged, key-marker exclusive", () -> {
                ListObjectVersionsResponse all = s3.listObjectVersions(r -> r.bucket(bucket).prefix("versioned"));
                String shape = all.versions().size() + " versions, " + all.deleteMarkers().size() + " marker, latest marker "
                        + all.deleteMarkers().stream().anyMatch(m -> Boolean.TRUE.equals(m.isLatest()));
                ListObjectVersionsResponse after = s3.listObjectVersions(r -> r.bucket(bucket).keyMarker("untyped"));
                String next = after.versions().isEmpty() ? "none" : after.versions().getFirst().key();
                return expect("2 versions, 1 marker, latest marker true|versioned", shape + "|" + next);
            });
            check("multipart: ETag is the MD5 of the parts' MD5s, -N", () -> {
                byte[] part = new byte[5 << 20];
                String upload = s3.createMultipartUpload(r -> r.bucket(bucket).key("multi")).uploadId();
                List<CompletedPart> parts = new ArrayList<>();
                MessageDigest md5s = MessageDigest.getInstance("MD5");
                for (int n = 1; n <= 2; n++) {
                    int number = n;
                    parts.add(CompletedPart.builder().partNumber(n).eTag(s3.uploadPart(r -> r.bucket(bucket).key("multi").uploadId(upload)
                            .partNumber(number), RequestBody.fromBytes(part)).eTag()).build());
                    md5s.update(MessageDigest.getInstance("MD5").digest(part));
                }
                String etag = s3.completeMultipartUpload(r -> r.bucket(bucket).key("multi").uploadId(upload).multipartUpload(m -> m.parts(parts))).eTag();
                return expect("\"" + HexFormat.of().formatHex(md5s.digest()) + "-2\"", etag);
            });
            check("bucket replication configuration stored", () -> {
                s3.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(c -> c.role("arn:aws:iam::root:role/r")
                        .rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("").destination(d -> d.bucket("arn:aws:s3:::x").storageClass("site")))));
                return expect("site", s3.getBucketReplication(r -> r.bucket(bucket)).replicationConfiguration().rules().getFirst().destination().storageClassAsString());
            });
            results.forEach((name, result) -> System.out.printf("%-4s %s%s%n", result.substring(0, 4), name, result.length() > 5 ? ": " + result.substring(5) : ""));
            System.out.printf("server memory before the load: %s%n", residentMemory());
            if (smallPuts > 0) {
                byte[] body = new byte[4096];
                long start = System.nanoTime();
                try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
                    List<Future<?>> puts = new ArrayList<>();
                    for (int i = 0; i < smallPuts; i++) {
                        String key = "small/" + i;
                        puts.add(pool.submit(() -> s3.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(body))));
                    }
                    for (Future<?> f : puts) {
                        f.get();
                    }
                }
                System.out.printf("%d x 4 KiB PUTs by 16 threads: %.0f PUTs/s; server memory after: %s%n", smallPuts,
                        smallPuts / ((System.nanoTime() - start) / 1e9), residentMemory());
            }
            if (largeMib > 0) {
                large(s3, bucket);
            }
        }
        return results.values().stream().allMatch(r -> r.startsWith("PASS")) ? 0 : 1;
    }

    /** One object of {@code largeMib} MiB: multipart up from a generated stream, streamed down and hashed. */
    private void large(S3Client s3, String bucket) throws Exception {
        long size = largeMib << 20;
        long partSize = 64L << 20;
        long start = System.nanoTime();
        String upload = s3.createMultipartUpload(r -> r.bucket(bucket).key("large")).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        MessageDigest sent = MessageDigest.getInstance("MD5");
        try (InputStream data = new GeneratedInputStream(42, size)) {
            for (int n = 1; (long) (n - 1) * partSize < size; n++) {
                long length = Math.min(partSize, size - (n - 1) * partSize);
                Path part = Files.createTempFile("part", ".bin");
                try {
                    try (var out = Files.newOutputStream(part)) {
                        byte[] buffer = new byte[1 << 20];
                        for (long left = length; left > 0; ) {
                            int read = data.read(buffer, 0, (int) Math.min(buffer.length, left));
                            out.write(buffer, 0, read);
                            sent.update(buffer, 0, read);
                            left -= read;
                        }
                    }
                    int number = n;
                    parts.add(CompletedPart.builder().partNumber(n)
                            .eTag(s3.uploadPart(r -> r.bucket(bucket).key("large").uploadId(upload).partNumber(number), RequestBody.fromFile(part)).eTag()).build());
                } finally {
                    Files.deleteIfExists(part);
                }
            }
        }
        s3.completeMultipartUpload(r -> r.bucket(bucket).key("large").uploadId(upload).multipartUpload(m -> m.parts(parts)));
        double up = (System.nanoTime() - start) / 1e9;
        String memoryAfterUp = residentMemory();
        start = System.nanoTime();
        MessageDigest received = MessageDigest.getInstance("MD5");
        // Down in 64 MiB ranges, as the replicator and the AWS CLI read a large object: local-s3 builds a whole
        // response on its heap, so one GET of a multi-GiB object cannot work there, while a range reads only its bytes.
        byte[] buffer = new byte[1 << 20];
        for (long offset = 0; offset < size; offset += partSize) {
            String range = "bytes=" + offset + "-" + (Math.min(size, offset + partSize) - 1);
            try (ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(bucket).key("large").range(range))) {
                for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                    received.update(buffer, 0, read);
                }
            }
        }
        double down = (System.nanoTime() - start) / 1e9;
        System.out.printf("%d MiB object: up %.0f MB/s, down %.0f MB/s, %s; server memory after the upload %s, after the download %s%n", largeMib,
                size / up / 1e6, size / down / 1e6, MessageDigest.isEqual(sent.digest(), received.digest()) ? "identical" : "DIFFERENT",
                memoryAfterUp, residentMemory());
    }

    private String residentMemory() {
        if (pid == null) {
            return "(no --pid)";
        }
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS"))
                    .map(l -> l.replaceAll("\\s+", " ").substring(7)).findFirst().orElse("?") + " resident";
        } catch (Exception e) {
            return "?";
        }
    }

    private interface Check {
        String run() throws Exception;
    }

    private void check(String name, Check check) {
        String result;
        try {
            result = check.run();
        } catch (Exception e) {
            result = "FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        results.put(name, result);
    }

    private static String expect(String expected, String actual) {
        return expected.equals(actual) ? "PASS" : "FAIL expected " + expected + ", got " + actual;
    }
}
