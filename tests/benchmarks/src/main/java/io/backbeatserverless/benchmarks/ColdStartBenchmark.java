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
import io.backbeatserverless.localstack.ChildProcess;
import io.backbeatserverless.localstack.EmbeddedKafka;
import io.backbeatserverless.localstack.LocalS3Services;
import io.backbeatserverless.localstack.S3ServerProcess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Cold start of the replicator as deployed: a new JVM on {@code functions/replicator/target/lambda.jar}
 * (plus {@link ReplicatorProcess}, the small main that invokes the handler) replicates one small object
 * between two local S3 server JVMs and publishes its outcome to Kafka. Timed from just before the process
 * starts to the line it prints when the handler returns; the child's JVM uptime when the handler is invoked
 * (Lambda's init) and when it returns splits that time. The same runs are made with JVM flags that could
 * shorten it, interleaved so load on a shared machine spreads over all of them: C1 only (what Lambda's java21
 * runtime sets), an AppCDS archive of the classes a training run loaded (the local stand-in for SnapStart),
 * both, and on JDK 25+ the AOT cache (classes loaded and linked, and method profiles).
 */
@Command(name = "cold-start", mixinStandardHelpOptions = true,
        description = "Replicator cold start: a new JVM on the deployed lambda.jar, from process start to one batch done.")
final class ColdStartBenchmark implements Callable<Integer> {

    @Option(names = "--results", defaultValue = "docs/benchmarks.md", description = "page the table is written to; '-' for none (default: ${DEFAULT-VALUE})")
    String results;
    @Option(names = "--runs", defaultValue = "5", description = "runs of each variant (default: ${DEFAULT-VALUE})")
    int runs;
    @Option(names = "--object-kib", defaultValue = "4", description = "size of the object replicated in each run, KiB (default: ${DEFAULT-VALUE})")
    int objectKib;
    @Option(names = "--heap", defaultValue = "256m", description = "-Xmx of the replicator JVM (default: ${DEFAULT-VALUE})")
    String heap;
    @Option(names = "--java", defaultValue = "${sys:java.home}/bin/java",
            description = "java of the replicator JVM, e.g. a JDK 21 as Lambda's java21 runtime (default: this JVM's)")
    String replicatorJava;
    @Option(names = "--functions", defaultValue = "functions", description = "directory of the function modules (default: ${DEFAULT-VALUE})")
    Path functions;

    private static final String HOST = "127.0.0.1";
    private static final String SITE = "bench-site";
    private static final List<String> C1_ONLY = List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1");

    private record Variant(String name, List<String> flags) {
    }

    /** One cold start: wall time to the handler's return, and the child's own uptimes around the handler. */
    private record Run(double wallMs, double initMs, double handlerMs) {
    }

    @Override
    public Integer call() throws Exception {
        Path replicatorJar = functions.resolve("replicator/target/lambda.jar");
        if (!Files.exists(replicatorJar)) {
            throw new IllegalStateException(replicatorJar + " is missing: ./mvnw -q -DskipTests package -pl functions/replicator -am");
        }
        System.out.printf("machine: %d cores, load average %.1f at start; replicator JVM: %s, -Xmx%s%n",
                Runtime.getRuntime().availableProcessors(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                javaVersion(), heap);

        int sourcePort = EmbeddedKafka.freePort();
        int destPort = EmbeddedKafka.freePort();
        // The work directory holds the archives (about 100 MB): deleted at the end.
        try (WorkDirectory workDirectory = WorkDirectory.create("backbeat-cold-start-");
             EmbeddedKafka kafka = EmbeddedKafka.start(HOST, EmbeddedKafka.freePort());
             ChildProcess sourceServer = S3ServerProcess.start("source", HOST, sourcePort, "1g", "256m", LocalS3Services.ObjectBytes.DISK, null);
             ChildProcess destServer = S3ServerProcess.start("destination", HOST, destPort, "1g", "256m", LocalS3Services.ObjectBytes.DISK, null);
             S3Client source = AwsClients.s3(endpoint(sourcePort), 4);
             S3Client destination = AwsClients.s3(endpoint(destPort), 4)) {
            Path work = workDirectory.path();
            kafka.createTopics(Map.of("backbeat-replication", 1, "backbeat-replication-status", 1));
            createVersionedBucket(source, "src-bucket");
            createVersionedBucket(destination, "dest-bucket");
            BackbeatConfig config = new BackbeatConfig(new BackbeatConfig.KafkaSettings(kafka.bootstrapServers(), null, null, 1),
                    new BackbeatConfig.SourceConfig(null, endpoint(sourcePort), null),
                    List.of(new SiteConfig(SITE, SiteConfig.TYPE_AWS_S3, endpoint(destPort), "dest-bucket", false)),
                    new BackbeatConfig.DynamoDbSettings(null, null), null, null, null);
            Path configFile = Files.writeString(work.resolve("config.json"), config.toJson());
            // Copies: a rebuild during the runs must not change what is measured, nor invalidate the archives.
            List<String> classPath = List.of(Files.copy(replicatorJar, work.resolve("lambda.jar")).toString(),
                    Files.copy(harnessJar(), work.resolve("harness.jar")).toString());
            BatchInput input = new BatchInput(source, configFile, objectKib * 1024);

            List<Variant> variants = variants(classPath, configFile, input, work);
            Map<Variant, List<Run>> results = new LinkedHashMap<>();
            variants.forEach(v -> results.put(v, new ArrayList<>()));
            for (int run = 1; run <= runs; run++) {
                for (Variant variant : variants) {
                    Run measured = coldStart(classPath, variant.flags(), configFile, input.next());
                    results.get(variant).add(measured);
                    System.out.printf("run %d %-30s %6.0f ms (init %4.0f ms, handler %4.0f ms)%n",
                            run, variant.name(), measured.wallMs(), measured.initMs(), measured.handlerMs());
                }
            }
            printTable(results);
        }
        return 0;
    }

    /** The variants to compare; the archives come from one training run each (not timed). */
    private List<Variant> variants(List<String> classPath, Path configFile, BatchInput input, Path work) throws Exception {
        List<Variant> variants = new ArrayList<>();
        variants.add(new Variant("default flags", List.of()));
        variants.add(new Variant("C1 only (Lambda java21)", C1_ONLY));

        Path cdsArchive = work.resolve("replicator.jsa");
        train(classPath, List.of("-XX:ArchiveClassesAtExit=" + cdsArchive), configFile, input.next(), cdsArchive);
        variants.add(new Variant("AppCDS", List.of("-XX:SharedArchiveFile=" + cdsArchive)));
        variants.add(new Variant("AppCDS + C1 only", Stream.concat(Stream.of("-XX:SharedArchiveFile=" + cdsArchive), C1_ONLY.stream()).toList()));

        // SnapStart's stand-in (issue 33): the handler's init and its priming (SnapStartHooks.beforeCheckpoint) run to the
        // snapshot point, then the restore (afterRestore: the runtime built again) and the invocation. In AWS the first
        // part is the snapshot's making, off every cold start's path; the second is what a restored environment pays,
        // plus Lambda's restore of the snapshot itself (not measurable here).
        List<String> primed = Stream.concat(C1_ONLY.stream(), Stream.of("-D" + ReplicatorProcess.PRIMED + "=true")).toList();
        variants.add(new Variant("C1 only, primed (init + priming; restore + invocation)", primed));
        Path primedArchive = work.resolve("replicator-primed.jsa");
        train(classPath, Stream.concat(Stream.of("-XX:ArchiveClassesAtExit=" + primedArchive), primed.stream()).toList(), configFile, input.next(),
                primedArchive);
        variants.add(new Variant("AppCDS + C1 only, primed (init + priming; restore + invocation)",
                Stream.concat(Stream.of("-XX:SharedArchiveFile=" + primedArchive), primed.stream()).toList()));

        if (javaFeatureVersion() >= 25) {
            Path aotCache = work.resolve("replicator.aot");
            train(classPath, List.of("-XX:AOTCacheOutput=" + aotCache), configFile, input.next(), aotCache);
            variants.add(new Variant("AOT cache (JDK 25, not Lambda)", List.of("-XX:AOTCache=" + aotCache)));
        }
        return variants;
    }

    private void train(List<String> classPath, List<String> flags, Path configFile, Path entryFile, Path archive) throws Exception {
        coldStart(classPath, flags, configFile, entryFile);
        if (!Files.exists(archive)) {
            throw new IllegalStateException("the training run wrote no " + archive);
        }
        System.out.printf("training run wrote %s (%.1f MB)%n", archive.getFileName(), Files.size(archive) / 1e6);
    }

    /** Starts the replicator JVM on one entry and times it to the handler's return; fails unless the copy completed. */
    private Run coldStart(List<String> classPath, List<String> flags, Path configFile, Path entryFile) throws Exception {
        List<String> command = new ArrayList<>(List.of(replicatorJava, "-Xmx" + heap, "--enable-native-access=ALL-UNNAMED"));
        command.addAll(flags);
        command.addAll(List.of("-cp", String.join(File.pathSeparator, classPath), ReplicatorProcess.class.getName(),
                configFile.toString(), SITE, entryFile.toString()));
        long started = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        long returned = 0;
        String result = null;
        List<String> output = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.equals(ReplicatorProcess.HANDLER_RETURNED)) {
                    returned = System.nanoTime();
                } else if (line.startsWith("RESULT ")) {
                    result = line;
                } else {
                    output.add(line);
                }
            }
        }
        int exit = process.waitFor();
        if (exit != 0 || returned == 0 || result == null || !result.contains("completed=1")) {
            throw new IllegalStateException("replicator JVM " + flags + " exited with " + exit + ", result " + result
                    + ", output:\n" + String.join("\n", output));
        }
        double initMs = Double.parseDouble(ReplicatorProcess.resultValue(result, "handlerStartUptimeMs"));
        return new Run((returned - started) / 1e6, initMs, Double.parseDouble(ReplicatorProcess.resultValue(result, "handlerEndUptimeMs")) - initMs);
    }

    /** Each run replicates its own new object: one version uploaded, its entry written to a file. */
    private static final class BatchInput {
        private final S3Client source;
        private final Path configFile;
        private final int size;
        private int count;

        BatchInput(S3Client source, Path configFile, int size) {
            this.source = source;
            this.configFile = configFile;
            this.size = size;
        }

        /** The entry file of a new object, next to the configuration file. */
        Path next() throws Exception {
            String key = "cold-" + (++count) + ".bin";
            byte[] body = new byte[size];
            ThreadLocalRandom.current().nextBytes(body);
            String versionId = source.putObject(r -> r.bucket("src-bucket").key(key), RequestBody.fromBytes(body)).versionId();
            ObjectMetadata metadata = ObjectMetadata.builder(key, versionId).contentLength(size).lastModified(Instant.now().toString())
                    .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                            List.of(new ObjectMetadata.Backend(SITE, ReplicationStatus.PENDING, "")),
                            List.of("DATA", "METADATA"), "arn:aws:s3:::dest-bucket", SITE, "arn:aws:iam::root:role/bench"))
                    .build();
            Path entryFile = configFile.resolveSibling("entry-" + count + ".json");
            return Files.write(entryFile, EntryCodec.encode(new ReplicationEntry("put", "src-bucket", new VersionKey(key, versionId), metadata, null)));
        }
    }

    private void printTable(Map<Variant, List<Run>> byVariant) throws Exception {
        StringBuilder table = new StringBuilder("| replicator JVM | runs | process start → batch done, ms (median, min-max) "
                + "| init: JVM uptime at handler start, ms | first invocation, ms |\n|---|---|---|---|---|\n");
        byVariant.forEach((variant, measured) -> table.append(String.format("| %s | %d | %s | %s | %s |%n", variant.name(), measured.size(),
                spread(measured.stream().map(Run::wallMs).toList()), spread(measured.stream().map(Run::initMs).toList()),
                spread(measured.stream().map(Run::handlerMs).toList()))));
        table.append("\n| function | deployment jar |\n|---|---|\n");
        for (String function : List.of("replicator", "status", "ops", "populator")) {
            Path jar = functions.resolve(function).resolve("target/lambda.jar");
            table.append(String.format("| %s | %s |%n", function, Files.exists(jar)
                    ? String.format("%,d bytes (%.1f MB)", Files.size(jar), Files.size(jar) / 1e6) : "not built"));
        }
        System.out.println();
        System.out.println(table);
        if (!"-".equals(results)) {
            ResultsPage.write(Path.of(results), "cold-start", "tests/benchmarks/run cold-start --runs " + runs + " --object-kib " + objectKib
                    + " --heap " + heap, table.toString());
        }
    }

    private static String spread(List<Double> values) {
        return String.format("%.0f (%.0f-%.0f)", Stats.median(values), Stats.min(values), Stats.max(values));
    }

    /** Where ReplicatorProcess is: the harness jar, which holds only the harness's own classes. */
    private static Path harnessJar() throws Exception {
        Path location = Path.of(ReplicatorProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!Files.isRegularFile(location)) {
            throw new IllegalStateException("run the harness from its jar (tests/benchmarks/run), not from " + location);
        }
        return location;
    }

    private String javaVersion() throws Exception {
        Process version = new ProcessBuilder(replicatorJava, "-version").redirectErrorStream(true).start();
        String first = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst().orElse("?");
        version.waitFor();
        return first;
    }

    private int javaFeatureVersion() throws Exception {
        Matcher m = Pattern.compile("version \"(\\d+)").matcher(javaVersion());
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    private static void createVersionedBucket(S3Client s3, String bucket) {
        s3.createBucket(r -> r.bucket(bucket));
        s3.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
    }

    private static Endpoint endpoint(int port) {
        return new Endpoint("http://" + HOST + ":" + port, "us-east-1", "accessKey1", "verySecretKey1");
    }
}
