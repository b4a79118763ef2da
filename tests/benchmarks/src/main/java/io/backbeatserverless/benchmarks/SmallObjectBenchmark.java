package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.localstack.EmbeddedStack;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Small objects end to end on the embedded stack (change feed, Kafka, replicator, status processor,
 * all on this machine's cores), each run on a fresh stack:
 * <ol>
 *   <li>throughput: N objects of S bytes put to a replicated bucket by C threads; objects/s from the first
 *       put to the last completion; per-object latency from put acknowledged to the replica written (the
 *       replicator's completion time in the status table, taken right after the destination acknowledged
 *       the PUT). Baselines in the same run between the same two servers, copying the same versions:
 *       the AWS SDK v2 with its defaults (GET+PUT, C threads), the leanest loop ({@link LeanCopyLoop}),
 *       and {@code rclone copy --transfers C}, with defaults and tuned;</li>
 *   <li>latency under steady load: puts paced at half of the median throughput for a fixed time.</li>
 * </ol>
 * Prints the tables and writes them to docs/benchmarks.md.
 */
@Command(name = "small-objects", mixinStandardHelpOptions = true,
        description = "Small objects: ours vs rclone vs raw loops, and latency under steady load.")
final class SmallObjectBenchmark implements Callable<Integer> {

    private static final String SITE = "aws-location";

    @Option(names = "--objects", defaultValue = "10000", description = "objects per throughput run (default: ${DEFAULT-VALUE})")
    int objects;
    @Option(names = "--size", defaultValue = "4096", description = "bytes per object (default: ${DEFAULT-VALUE})")
    int size;
    @Option(names = "--concurrency", defaultValue = "16", description = "put threads, baseline threads and rclone transfers (default: ${DEFAULT-VALUE})")
    int concurrency;
    @Option(names = "--warmup", defaultValue = "2000", description = "objects replicated on each fresh stack before measuring,"
            + " so a run does not measure JIT compilation (the loops run after ours, on a warm JVM) (default: ${DEFAULT-VALUE})")
    int warmup;
    @Option(names = "--runs", defaultValue = "3", description = "runs of each part (default: ${DEFAULT-VALUE})")
    int runs;
    @Option(names = "--feed", defaultValue = "s3-events", description = "s3-events (the source server's event notifications via SQS) or listing (default: ${DEFAULT-VALUE})")
    String feed;
    @Option(names = "--steady-seconds", defaultValue = "60", description = "length of each steady-load run; 0 skips them (default: ${DEFAULT-VALUE})")
    int steadySeconds;
    @Option(names = "--rclone", defaultValue = "/usr/bin/rclone", description = "rclone binary (default: ${DEFAULT-VALUE})")
    Path rclone;
    @Option(names = "--results", defaultValue = "docs/benchmarks.md", description = "page the tables are written to; '-' for none (default: ${DEFAULT-VALUE})")
    String results;

    record Run(double ours, double putSeconds, double p50, double p95, double p99, long notCompleted, double sdkDefaults, double lean,
               double rclone, double rcloneTuned, Map<String, Double> oursCpu, Map<String, Double> sdkCpu, Map<String, Double> leanCpu) {
    }

    record Steady(double targetRate, double achievedRate, int objects, double p50, double p95, double p99, double max) {
    }

    @Override
    public Integer call() throws Exception {
        List<Run> throughput = new ArrayList<>();
        for (int i = 1; i <= runs; i++) {
            Run run = throughputRun();
            System.out.printf("run %d: %s%n", i, run);
            throughput.add(run);
        }
        double peak = Stats.median(throughput.stream().map(Run::ours).toList());
        List<Steady> steady = new ArrayList<>();
        for (int i = 1; i <= runs && steadySeconds > 0; i++) {
            Steady s = steadyRun(peak / 2);
            System.out.printf("steady %d: %s%n", i, s);
            steady.add(s);
        }
        String table = tables(throughput, steady);
        System.out.println();
        System.out.println(table);
        if (!"-".equals(results)) {
            ResultsPage.write(Path.of(results), "small-objects", "tests/benchmarks/run small-objects --objects " + objects + " --size " + size
                    + " --warmup " + warmup
                    + " --concurrency " + concurrency + " --runs " + runs + " --feed " + feed + " --steady-seconds " + steadySeconds, table);
        }
        return 0;
    }

    private Run throughputRun() throws Exception {
        try (Bench bench = new Bench()) {
            byte[] body = randomBody();
            bench.warmUp(body);
            String bucket = bench.replicatedBucket();
            Map<String, String> versions = new ConcurrentHashMap<>();
            Map<String, Instant> acked = new ConcurrentHashMap<>();
            Counters before = bench.metrics.totals(SITE);
            Map<String, Double> cpuBefore = ProcessCpu.snapshot(bench.stack.serverPids());
            Instant firstPut = Instant.now();
            putAll(bench, bucket, "o", objects, body, versions, acked);
            double putSeconds = Duration.between(firstPut, Instant.now()).toMillis() / 1000.0;
            bench.awaitOutcomes(before, objects, Duration.ofMinutes(10));
            Map<String, Double> oursCpu = ProcessCpu.perObject(cpuBefore, ProcessCpu.snapshot(bench.stack.serverPids()), objects);
            Latencies latencies = bench.latencies(bucket, versions, acked);
            double oursSeconds = Duration.between(firstPut, latencies.lastDone()).toMillis() / 1000.0;

            var ordered = new ArrayList<>(versions.entrySet());
            Map<String, Double> sdkBefore = ProcessCpu.snapshot(bench.stack.serverPids());
            double sdk = bench.sdkDefaultsCopy(bucket, ordered);
            Map<String, Double> sdkCpu = ProcessCpu.perObject(sdkBefore, ProcessCpu.snapshot(bench.stack.serverPids()), objects);
            String leanTarget = bench.newDestinationBucket("lean");
            Map<String, Double> leanBefore = ProcessCpu.snapshot(bench.stack.serverPids());
            double lean = LeanCopyLoop.copy(bench.config.source().endpoint().uri(), bench.config.requireSite(SITE).endpoint().uri(),
                    bucket, leanTarget, ordered, concurrency);
            Map<String, Double> leanCpu = ProcessCpu.perObject(leanBefore, ProcessCpu.snapshot(bench.stack.serverPids()), objects);
            double rcloneDefault = bench.rclone(bucket, "rclone-default", List.of());
            double rcloneTuned = bench.rclone(bucket, "rclone-tuned", List.of("--s3-no-check-bucket", "--no-check-dest", "--s3-no-head"));
            return new Run(objects / oursSeconds, putSeconds, latencies.percentile(50), latencies.percentile(95), latencies.percentile(99),
                    latencies.notCompleted(), objects / sdk, objects / lean, objects / rcloneDefault, objects / rcloneTuned, oursCpu, sdkCpu, leanCpu);
        }
    }

    /** Puts paced at {@code rate} objects/s for {@code steadySeconds}, then the latency of every one. */
    private Steady steadyRun(double rate) throws Exception {
        try (Bench bench = new Bench()) {
            byte[] body = randomBody();
            bench.warmUp(body);
            String bucket = bench.replicatedBucket();
            int total = (int) Math.round(rate * steadySeconds);
            Map<String, String> versions = new ConcurrentHashMap<>();
            Map<String, Instant> acked = new ConcurrentHashMap<>();
            Counters before = bench.metrics.totals(SITE);
            double achieved = LoadGenerator.paced(concurrency, total, rate,
                    i -> put(bench, bucket, String.format("s%06d", i), body, versions, acked));
            bench.awaitOutcomes(before, total, Duration.ofMinutes(10));
            Latencies latencies = bench.latencies(bucket, versions, acked);
            return new Steady(rate, achieved, total, latencies.percentile(50), latencies.percentile(95), latencies.percentile(99),
                    latencies.percentile(100));
        }
    }

    /** Puts {@code count} objects named prefix + number with {@code concurrency} threads, as fast as they go. */
    private void putAll(Bench bench, String bucket, String prefix, int count, byte[] body, Map<String, String> versions,
                        Map<String, Instant> acked) throws Exception {
        LoadGenerator.burst(concurrency, count, i -> put(bench, bucket, String.format("%s%06d", prefix, i), body, versions, acked));
    }

    private static void put(Bench bench, String bucket, String key, byte[] body, Map<String, String> versions, Map<String, Instant> acked) {
        versions.put(key, bench.source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(body)).versionId());
        acked.put(key, Instant.now());
    }

    private byte[] randomBody() {
        byte[] body = new byte[size];
        ThreadLocalRandom.current().nextBytes(body);
        return body;
    }

    private String tables(List<Run> throughput, List<Steady> steady) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("Throughput: %d x %d B, %d threads/transfers, %s feed; objects/s (higher is better)%n%n", objects, size,
                concurrency, feed));
        out.append("| run | ours | latency p50 / p95 / p99 ms | SDK defaults loop | leanest loop | rclone | rclone tuned | ours/rclone tuned | ours/leanest |\n");
        out.append("|---|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < throughput.size(); i++) {
            Run r = throughput.get(i);
            out.append(String.format("| %d | %.0f%s | %.0f / %.0f / %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f |%n", i + 1, r.ours(),
                    r.notCompleted() > 0 ? " (" + r.notCompleted() + " not COMPLETED)" : "", r.p50(), r.p95(), r.p99(), r.sdkDefaults(),
                    r.lean(), r.rclone(), r.rcloneTuned(), r.ours() / r.rcloneTuned(), r.ours() / r.lean()));
        }
        out.append(String.format("| median (min-max) | %s | %s / %s / %s | %s | %s | %s | %s | %s | %s |%n",
                spread(throughput, Run::ours), spread(throughput, Run::p50), spread(throughput, Run::p95), spread(throughput, Run::p99),
                spread(throughput, Run::sdkDefaults), spread(throughput, Run::lean), spread(throughput, Run::rclone),
                spread(throughput, Run::rcloneTuned), ratio(throughput, r -> r.ours() / r.rcloneTuned()), ratio(throughput, r -> r.ours() / r.lean())));
        out.append(String.format("%nCPU per object (ms of CPU time per process over each copy; the machine has 2 cores). \"ours\" covers the puts too;"
                + " the loops only copy%n%n"));
        List<String> processes = new ArrayList<>(throughput.getFirst().oursCpu().keySet());
        out.append("| run | copier | ").append(String.join(" | ", processes)).append(" | total |\n");
        out.append("|---|---|").append("---|".repeat(processes.size() + 1)).append("\n");
        for (int i = 0; i < throughput.size(); i++) {
            Run r = throughput.get(i);
            out.append(cpuRow(i + 1, "ours (puts + pipeline)", processes, r.oursCpu()));
            out.append(cpuRow(i + 1, "SDK defaults loop", processes, r.sdkCpu()));
            out.append(cpuRow(i + 1, "leanest loop", processes, r.leanCpu()));
        }
        if (!steady.isEmpty()) {
            out.append(String.format("%nLatency under steady load: puts paced at half the median throughput for %d s; put acknowledged to replica written%n%n",
                    steadySeconds));
            out.append("| run | target puts/s | achieved puts/s | objects | p50 ms | p95 ms | p99 ms | max ms |\n");
            out.append("|---|---|---|---|---|---|---|---|\n");
            for (int i = 0; i < steady.size(); i++) {
                Steady s = steady.get(i);
                out.append(String.format("| %d | %.0f | %.0f | %d | %.0f | %.0f | %.0f | %.0f |%n", i + 1, s.targetRate(), s.achievedRate(),
                        s.objects(), s.p50(), s.p95(), s.p99(), s.max()));
            }
            out.append(String.format("| median (min-max) | | | | %s | %s | %s | %s |%n", spread(steady, Steady::p50), spread(steady, Steady::p95),
                    spread(steady, Steady::p99), spread(steady, Steady::max)));
        }
        return out.toString();
    }

    private static String cpuRow(int run, String copier, List<String> processes, Map<String, Double> cpu) {
        StringBuilder row = new StringBuilder("| " + run + " | " + copier + " | ");
        double total = 0;
        for (String p : processes) {
            double ms = cpu.getOrDefault(p, 0.0);
            total += ms;
            row.append(String.format("%.2f | ", ms));
        }
        return row.append(String.format("%.2f |%n", total)).toString();
    }

    private static <T> String spread(List<T> runs, java.util.function.ToDoubleFunction<T> value) {
        List<Double> values = runs.stream().map(value::applyAsDouble).toList();
        return String.format("%.0f (%.0f-%.0f)", Stats.median(values), Stats.min(values), Stats.max(values));
    }

    private static <T> String ratio(List<T> runs, java.util.function.ToDoubleFunction<T> value) {
        List<Double> values = runs.stream().map(value::applyAsDouble).toList();
        return String.format("%.2f (%.2f-%.2f)", Stats.median(values), Stats.min(values), Stats.max(values));
    }

    /** Each version's put-acknowledged-to-replica-written latency, and when the last replica was written. */
    record Latencies(List<Double> millis, Instant lastDone, long notCompleted) {
        double percentile(double p) {
            return Stats.percentile(millis, p);
        }
    }

    /** A fresh embedded stack and the clients a run needs. */
    private final class Bench implements AutoCloseable {
        final BackbeatConfig config;
        final EmbeddedStack stack;
        final S3Client source;
        final S3Client destination;
        final DynamoDbClient dynamo;
        final DynamoDbMetricsStore metrics;

        Bench() throws Exception {
            String file = switch (feed) {
                case "s3-events" -> "localstack/backbeat-s3-events.json";
                case "listing" -> "localstack/backbeat.json";
                default -> throw new IllegalArgumentException("--feed must be s3-events or listing, not '" + feed + "'");
            };
            config = EmbeddedStack.onFreePorts(BackbeatConfig.load(Path.of(file)));
            EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
            stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), "3g", "2g", java.util.Set.of(), null));
            source = AwsClients.s3(config.source().endpoint(), concurrency * 2);
            destination = AwsClients.s3(config.requireSite(SITE).endpoint(), concurrency * 2);
            dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint());
            metrics = new DynamoDbMetricsStore(dynamo, config.dynamodb().tables().metrics());
        }

        String replicatedBucket() {
            String bucket = "bench-" + Long.toHexString(System.nanoTime());
            source.createBucket(r -> r.bucket(bucket));
            source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
            source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                    .role("arn:aws:iam::root:role/bench").rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                            .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass(SITE))).build()));
            return bucket;
        }

        /** Replicates {@code warmup} objects of another bucket and waits for them: JIT compilation happens here. */
        void warmUp(byte[] body) throws Exception {
            if (warmup <= 0) {
                return;
            }
            String bucket = replicatedBucket();
            Counters before = metrics.totals(SITE);
            putAll(this, bucket, "w", warmup, body, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
            awaitOutcomes(before, warmup, Duration.ofMinutes(5));
        }

        String newDestinationBucket(String prefix) {
            String bucket = prefix + "-" + Long.toHexString(System.nanoTime());
            destination.createBucket(r -> r.bucket(bucket));
            return bucket;
        }

        /** Waits (polling the site's outcome counters, one small read) until {@code count} more outcomes were recorded. */
        void awaitOutcomes(Counters before, long count, Duration limit) throws InterruptedException {
            long deadline = System.nanoTime() + limit.toNanos();
            while (true) {
                Counters now = metrics.totals(SITE);
                long outcomes = (now.completed() + now.failed() + now.skipped()) - (before.completed() + before.failed() + before.skipped());
                if (outcomes >= count) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + outcomes + " of " + count + " outcomes recorded within " + limit);
                }
                Thread.sleep(100);
            }
        }

        Latencies latencies(String bucket, Map<String, String> versions, Map<String, Instant> acked) throws Exception {
            var status = new DynamoDbReplicationStatusStore(dynamo, config.dynamodb().tables().status(), Clock.systemUTC());
            List<Double> millis = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Instant> done = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicInteger notCompleted = new AtomicInteger();
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                List<Future<?>> reads = new ArrayList<>();
                for (Map.Entry<String, String> v : versions.entrySet()) {
                    reads.add(pool.submit(() -> {
                        SiteOutcome outcome = status.find(new VersionRef(bucket, v.getKey(), v.getValue()))
                                .map(s -> s.sites().get(SITE)).orElse(null);
                        if (outcome == null || outcome.status() != ReplicationStatus.COMPLETED || outcome.updatedAt() == null) {
                            notCompleted.incrementAndGet();
                            return;
                        }
                        Instant at = Instant.parse(outcome.updatedAt());
                        done.add(at);
                        millis.add((double) Duration.between(acked.get(v.getKey()), at).toMillis());
                    }));
                }
                for (Future<?> r : reads) {
                    r.get();
                }
            }
            return new Latencies(millis, done.stream().max(Instant::compareTo).orElseThrow(), notCompleted.get());
        }

        /** GET+PUT with an S3 client built with nothing but endpoint, region, credentials and path style. */
        double sdkDefaultsCopy(String bucket, List<Map.Entry<String, String>> versions) throws Exception {
            String target = newDestinationBucket("sdk");
            var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(config.source().endpoint().accessKeyId(),
                    config.source().endpoint().secretAccessKey()));
            try (S3Client from = S3Client.builder().endpointOverride(config.source().endpoint().uri()).region(Region.US_EAST_1)
                    .credentialsProvider(credentials).forcePathStyle(true).build();
                 S3Client to = S3Client.builder().endpointOverride(config.requireSite(SITE).endpoint().uri()).region(Region.US_EAST_1)
                         .credentialsProvider(credentials).forcePathStyle(true).build();
                 ExecutorService pool = Executors.newFixedThreadPool(concurrency)) {
                long started = System.nanoTime();
                List<Future<?>> copies = new ArrayList<>();
                for (Map.Entry<String, String> v : versions) {
                    copies.add(pool.submit(() -> {
                        byte[] data = from.getObjectAsBytes(r -> r.bucket(bucket).key(v.getKey()).versionId(v.getValue())).asByteArray();
                        to.putObject(r -> r.bucket(target).key(v.getKey()), RequestBody.fromBytes(data));
                    }));
                }
                for (Future<?> f : copies) {
                    f.get();
                }
                return (System.nanoTime() - started) / 1e9;
            }
        }

        double rclone(String bucket, String prefix, List<String> extra) throws Exception {
            String target = newDestinationBucket(prefix); // --s3-no-check-bucket will not create it
            Path conf = Files.createTempFile("rclone", ".conf");
            try {
                Files.writeString(conf, remote("src", config.source().endpoint().url()) + remote("dst", config.requireSite(SITE).endpoint().url()));
                List<String> command = new ArrayList<>(List.of(rclone.toString(), "--config", conf.toString(), "copy",
                        "src:" + bucket, "dst:" + target, "--transfers", Integer.toString(concurrency), "--checkers",
                        Integer.toString(concurrency), "-q"));
                command.addAll(extra);
                ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
                builder.environment().remove("AWS_CA_BUNDLE");
                long started = System.nanoTime();
                int exit = builder.start().waitFor();
                double seconds = (System.nanoTime() - started) / 1e9;
                if (exit != 0) {
                    throw new IllegalStateException("rclone exited with " + exit);
                }
                return seconds;
            } finally {
                Files.deleteIfExists(conf);
            }
        }

        private String remote(String name, String url) {
            return "[" + name + "]\ntype = s3\nprovider = Other\naccess_key_id = " + config.source().endpoint().accessKeyId()
                    + "\nsecret_access_key = " + config.source().endpoint().secretAccessKey() + "\nendpoint = " + url
                    + "\nregion = us-east-1\nforce_path_style = true\n\n";
        }

        @Override
        public void close() {
            source.close();
            destination.close();
            dynamo.close();
            stack.close();
        }
    }
}
