package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.Endpoint;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.transfer.PartPlan;
import io.backbeatserverless.localstack.ChildProcess;
import io.backbeatserverless.localstack.EmbeddedKafka;
import io.backbeatserverless.localstack.LocalS3Services;
import io.backbeatserverless.localstack.S3ServerProcess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Large objects: the replicator handler in its own JVM (-Xmx as Lambda's memory would allow) copies
 * one object of the given size between two local S3 server JVMs; a raw multipart copy loop with the
 * same part concurrency runs against the same servers as the baseline. Prints bytes/s of both, the
 * ratio, the replicator's peak heap, and checks the replica's bytes (MD5 of a full read).
 */
@Command(name = "large-object", mixinStandardHelpOptions = true, description = "Large-object copy: replicator vs raw loop, and the replicator's heap.")
final class LargeObjectBenchmark implements Callable<Integer> {

    @Option(names = "--size-mib", defaultValue = "1024", split = ",", description = "object sizes in MiB, comma-separated (default: ${DEFAULT-VALUE})")
    List<Long> sizesMib;
    @Option(names = "--runs", defaultValue = "3", description = "runs of each size (default: ${DEFAULT-VALUE})")
    int runs;
    @Option(names = "--replicator-heap", defaultValue = "256m", description = "-Xmx of the replicator JVM (default: ${DEFAULT-VALUE})")
    String replicatorHeap;
    @Option(names = "--server-heap", defaultValue = "8g", description = "-Xmx of each S3 server JVM (default: ${DEFAULT-VALUE})")
    String serverHeap;
    @Option(names = "--results", defaultValue = "docs/benchmarks.md", description = "page the table is written to; '-' for none (default: ${DEFAULT-VALUE})")
    String results;

    private static final String HOST = "127.0.0.1";

    @Override
    public Integer call() throws Exception {
        StringBuilder table = new StringBuilder("| object | run | copied first | replicator MB/s | raw loop MB/s | replicator peak heap |\n"
                + "|---|---|---|---|---|---|\n");
        StringBuilder summary = new StringBuilder();
        for (long sizeMib : sizesMib) {
            long size = sizeMib * 1024 * 1024;
            List<Double> ours = new ArrayList<>();
            List<Double> raw = new ArrayList<>();
            List<Long> heaps = new ArrayList<>();
            // Fresh servers each run: local-s3 keeps every object on its heap and does not give it back.
            for (int run = 1; run <= runs; run++) {
                runOnce(run, sizeMib, size, ours, raw, heaps);
                table.append(String.format("| %d MiB | %d | %s | %.1f | %.1f | %d MiB (-Xmx%s) |%n", sizeMib, run,
                        replicatorFirst(run) ? "replicator" : "raw loop", ours.get(run - 1) / 1e6, raw.get(run - 1) / 1e6,
                        heaps.get(run - 1), replicatorHeap));
            }
            // The first copy of a run is slower whoever makes it (the servers' fresh heaps); compare like with like.
            summary.append(String.format("%d MiB: replicator %.1f MB/s (median, %.1f-%.1f), raw loop %.1f (%.1f-%.1f); "
                            + "same position: as first copy %s, as second copy %s; peak heap %d MiB%n",
                    sizeMib, Stats.median(ours) / 1e6, Stats.min(ours) / 1e6, Stats.max(ours) / 1e6, Stats.median(raw) / 1e6,
                    Stats.min(raw) / 1e6, Stats.max(raw) / 1e6, positionRatio(ours, raw, true), positionRatio(ours, raw, false),
                    heaps.stream().mapToLong(Long::longValue).max().orElse(0)));
        }
        table.append("\n").append(summary);
        System.out.println();
        System.out.println(table);
        if (!"-".equals(results)) {
            ResultsPage.write(Path.of(results), "large-objects", "tests/benchmarks/run large-object --size-mib "
                    + sizesMib.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")) + " --runs " + runs, table.toString());
        }
        return 0;
    }

    /** Odd runs copy with the replicator first, even runs with the raw loop first. */
    private static boolean replicatorFirst(int run) {
        return run % 2 == 1;
    }

    /** Replicator / raw loop, each the median of its runs in the same position (first or second copy of a run). */
    private static String positionRatio(List<Double> ours, List<Double> raw, boolean first) {
        List<Double> oursThere = new ArrayList<>();
        List<Double> rawThere = new ArrayList<>();
        for (int run = 1; run <= ours.size(); run++) {
            // In each run one copier holds the position asked for, the other the opposite one.
            if (replicatorFirst(run) == first) {
                oursThere.add(ours.get(run - 1));
            } else {
                rawThere.add(raw.get(run - 1));
            }
        }
        return String.format("%.2f", Stats.median(oursThere) / Stats.median(rawThere));
    }

    private void runOnce(int run, long sizeMib, long size, List<Double> ours, List<Double> raw, List<Long> heaps) throws Exception {
        int sourcePort = EmbeddedKafka.freePort();
        int destPort = EmbeddedKafka.freePort();
        try (WorkDirectory work = WorkDirectory.create("backbeat-bench-");
             EmbeddedKafka kafka = EmbeddedKafka.start(HOST, EmbeddedKafka.freePort());
             ChildProcess sourceServer = S3ServerProcess.start("source", HOST, sourcePort, serverHeap, "2g", LocalS3Services.ObjectBytes.DISK, null);
             ChildProcess destServer = S3ServerProcess.start("destination", HOST, destPort, serverHeap, "2g", LocalS3Services.ObjectBytes.DISK, null)) {
            Runnable settle = () -> collectGarbage(sourceServer.pid(), destServer.pid());
            measure(run, sizeMib, size, kafka, sourcePort, destPort, work.path(), settle, ours, raw, heaps);
        }
    }

    private void measure(int run, long sizeMib, long size, EmbeddedKafka kafka, int sourcePort, int destPort, Path work, Runnable settle,
                         List<Double> ours, List<Double> raw, List<Long> heaps) throws Exception {
        kafka.createTopics(Map.of("backbeat-replication", 1, "backbeat-replication-status", 1));
        Endpoint source = endpoint(sourcePort);
        Endpoint dest = endpoint(destPort);
        BackbeatConfig config = new BackbeatConfig(new BackbeatConfig.KafkaSettings(kafka.bootstrapServers(), null, null, 1),
                new BackbeatConfig.SourceConfig(null, source, null),
                List.of(new SiteConfig("bench-site", SiteConfig.TYPE_AWS_S3, dest, "dest-bucket", false)),
                new BackbeatConfig.DynamoDbSettings(null, null), null, null, null);
        Path configFile = work.resolve("config.json");
        Files.writeString(configFile, config.toJson());
        try (S3Client src = AwsClients.s3(source, 16); S3Client dst = AwsClients.s3(dest, 16)) {
            for (S3Client c : List.of(src, dst)) {
                String bucket = c == src ? "src-bucket" : "dest-bucket";
                c.createBucket(r -> r.bucket(bucket));
                c.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
            }
            System.out.printf("run %d: uploading a %d MiB object to the source...%n", run, sizeMib);
            String versionId = uploadGenerated(src, "src-bucket", "large.bin", size);
            String sourceMd5 = md5Of(src, "src-bucket", "large.bin", versionId);
            Path entryFile = work.resolve("entry.json");
            Files.write(entryFile, EntryCodec.encode(entry(versionId, size)));
            // Alternate which copy goes first, so neither always meets the fresher servers.
            // Warm-up, untimed: a smaller multipart copy, so neither timed copy pays for the servers' JIT
            // compiling the ranged GET and UploadPart paths (the upload above only warmed the source's PUT).
            long warmupSize = Math.min(size, 256L * 1024 * 1024);
            String warmupVersion = uploadGenerated(src, "src-bucket", "warmup.bin", warmupSize);
            rawCopy(src, dst, "warmup.bin", warmupVersion, warmupSize, "warmup/warmup.bin");
            // Both copies start on servers that just collected their garbage (the upload and the checksum read
            // leave GiBs behind, which otherwise slow whichever copy goes first).
            if (!replicatorFirst(run)) {
                settle.run();
                raw.add(size / rawRun(src, dst, versionId, size, run));
                settle.run();
                ours.add(size / replicatorRun(configFile, entryFile, dst, sourceMd5, size, run, heaps));
            } else {
                settle.run();
                ours.add(size / replicatorRun(configFile, entryFile, dst, sourceMd5, size, run, heaps));
                settle.run();
                raw.add(size / rawRun(src, dst, versionId, size, run));
            }
        }
    }

    private double replicatorRun(Path configFile, Path entryFile, S3Client dst, String sourceMd5, long size, int run, List<Long> heaps)
            throws Exception {
        String result = runReplicatorJvm(configFile, entryFile);
        double seconds = Double.parseDouble(value(result, "seconds"));
        long peak = Long.parseLong(value(result, "peakHeapMiB"));
        String replicaMd5 = md5Of(dst, "dest-bucket", "src-bucket/large.bin", null);
        if (!result.contains("completed=1") || !replicaMd5.equals(sourceMd5)) {
            throw new IllegalStateException("replicator run " + run + " did not produce an identical replica: " + result);
        }
        heaps.add(peak);
        System.out.printf("run %d replicator: %.1f s, %.1f MB/s, peak heap %d MiB (-Xmx%s), replica MD5 matches%n",
                run, seconds, size / seconds / 1e6, peak, replicatorHeap);
        return seconds;
    }

    private static double rawRun(S3Client src, S3Client dst, String versionId, long size, int run) throws Exception {
        double seconds = rawCopy(src, dst, versionId, size, "raw/large.bin");
        System.out.printf("run %d raw loop:   %.1f s, %.1f MB/s%n", run, seconds, size / seconds / 1e6);
        return seconds;
    }

    /** A full GC in each server JVM ({@code jcmd <pid> GC.run}), waited for. */
    private static void collectGarbage(long... pids) {
        for (long pid : pids) {
            try {
                new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid), "GC.run")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("jcmd GC.run on server " + pid, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Endpoint endpoint(int port) {
        return new Endpoint("http://" + HOST + ":" + port, "us-east-1", "accessKey1", "verySecretKey1");
    }

    private static ReplicationEntry entry(String versionId, long size) {
        ObjectMetadata metadata = ObjectMetadata.builder("large.bin", versionId).contentLength(size)
                .lastModified(Instant.now().toString())
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                        List.of(new ObjectMetadata.Backend("bench-site", ReplicationStatus.PENDING, "")),
                        List.of("DATA", "METADATA"), "arn:aws:s3:::dest-bucket", "bench-site", "arn:aws:iam::root:role/bench"))
                .build();
        return new ReplicationEntry("put", "src-bucket", new VersionKey("large.bin", versionId), metadata, null);
    }

    private String runReplicatorJvm(Path configFile, Path entryFile) throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + replicatorHeap, "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                ReplicatorProcess.class.getName(), configFile.toString(), "bench-site", entryFile.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String result = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    result = line;
                } else if (line.contains("ERROR") || line.contains("WARN") || line.contains("Exception")) {
                    System.out.println("  [replicator] " + line);
                }
            }
        }
        int exit = process.waitFor();
        if (exit != 0 || result == null) {
            throw new IllegalStateException("replicator JVM exited with " + exit + " and no result");
        }
        return result;
    }

    /** The baseline: a plain multipart copy, ranged GETs streamed into UploadParts, same part size and concurrency, no checks. */
    private static double rawCopy(S3Client src, S3Client dst, String versionId, long size, String key) throws Exception {
        return rawCopy(src, dst, "large.bin", versionId, size, key);
    }

    private static double rawCopy(S3Client src, S3Client dst, String sourceKey, String versionId, long size, String key) throws Exception {
        long started = System.nanoTime();
        PartPlan plan = PartPlan.of(size);
        String uploadId = dst.createMultipartUpload(r -> r.bucket("dest-bucket").key(key)).uploadId();
        List<Future<CompletedPart>> parts = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            for (PartPlan.Part part : plan.parts()) {
                parts.add(pool.submit(() -> {
                    try (ResponseInputStream<GetObjectResponse> in = src.getObject(r -> r.bucket("src-bucket").key(sourceKey)
                            .versionId(versionId).range(part.range()))) {
                        String eTag = dst.uploadPart(r -> r.bucket("dest-bucket").key(key).uploadId(uploadId).partNumber(part.number())
                                .contentLength(part.length()), RequestBody.fromInputStream(in, part.length())).eTag();
                        return CompletedPart.builder().partNumber(part.number()).eTag(eTag).build();
                    }
                }));
            }
            List<CompletedPart> completed = new ArrayList<>();
            for (Future<CompletedPart> f : parts) {
                completed.add(f.get());
            }
            dst.completeMultipartUpload(r -> r.bucket("dest-bucket").key(key).uploadId(uploadId).multipartUpload(u -> u.parts(completed)));
        }
        return (System.nanoTime() - started) / 1e9;
    }

    private static String uploadGenerated(S3Client s3, String bucket, String key, long size) throws Exception {
        PartPlan plan = PartPlan.of(size, 64L * 1024 * 1024);
        String uploadId = s3.createMultipartUpload(r -> r.bucket(bucket).key(key).contentType("application/octet-stream")).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        for (PartPlan.Part part : plan.parts()) {
            String eTag = s3.uploadPart(r -> r.bucket(bucket).key(key).uploadId(uploadId).partNumber(part.number()).contentLength(part.length()),
                    RequestBody.fromInputStream(new GeneratedInputStream(part.number(), part.length()), part.length())).eTag();
            parts.add(CompletedPart.builder().partNumber(part.number()).eTag(eTag).build());
        }
        return s3.completeMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(u -> u.parts(parts))).versionId();
    }

    private static String md5Of(S3Client s3, String bucket, String key, String versionId) throws Exception {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        try (InputStream in = s3.getObject(r -> r.bucket(bucket).key(key).versionId(versionId))) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                md5.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(md5.digest());
    }

    private static String value(String result, String name) {
        for (String token : result.split(" ")) {
            if (token.startsWith(name + "=")) {
                return token.substring(name.length() + 1);
            }
        }
        throw new IllegalStateException(name + " missing in " + result);
    }
}
