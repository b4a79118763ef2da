package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.localstack.EmbeddedStack;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Small objects end to end on the embedded stack (listing feed, Kafka, replicator, status): N objects
 * of S bytes put to a replicated bucket with C threads; objects/s from the first put to the last
 * COMPLETED, and per-object latency from put acknowledged to the replicator's completion (the status
 * table's time). Baselines in the same run, between the same two servers: {@code rclone copy} with
 * {@code --transfers C} (defaults and tuned), and a raw GET+PUT loop on the AWS SDK with C threads.
 */
@Command(name = "small-objects", mixinStandardHelpOptions = true, description = "Small objects: ours vs rclone vs a raw SDK loop.")
final class SmallObjectBenchmark implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--objects", defaultValue = "10000", description = "objects (default: ${DEFAULT-VALUE})")
    int objects;
    @Option(names = "--size", defaultValue = "4096", description = "bytes per object (default: ${DEFAULT-VALUE})")
    int size;
    @Option(names = "--concurrency", defaultValue = "16", description = "threads / rclone transfers (default: ${DEFAULT-VALUE})")
    int concurrency;
    @Option(names = "--rclone", defaultValue = "/usr/bin/rclone", description = "rclone binary (default: ${DEFAULT-VALUE})")
    Path rclone;

    @Override
    public Integer call() throws Exception {
        BackbeatConfig config = EmbeddedStack.onFreePorts(BackbeatConfig.load(Path.of("localstack/backbeat.json")));
        EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
        try (EmbeddedStack stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), "3g", "2g",
                java.util.Set.of(), null));
             S3Client source = AwsClients.s3(config.source().endpoint(), concurrency * 2);
             S3Client dest = AwsClients.s3(config.requireSite("aws-location").endpoint(), concurrency * 2);
             var dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint())) {
            String bucket = "bench-" + Long.toHexString(System.nanoTime());
            source.createBucket(r -> r.bucket(bucket));
            source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
            source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                    .role("arn:aws:iam::root:role/bench").rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                            .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass("aws-location"))).build()));
            byte[] body = new byte[size];
            ThreadLocalRandom.current().nextBytes(body);

            // Ours: put everything, then wait for every version to be COMPLETED.
            Map<String, String> versions = new ConcurrentHashMap<>();
            Map<String, Instant> acked = new ConcurrentHashMap<>();
            Instant firstPut = Instant.now();
            try (ExecutorService pool = Executors.newFixedThreadPool(concurrency)) {
                List<Future<?>> puts = new ArrayList<>();
                for (int i = 0; i < objects; i++) {
                    String key = String.format("o%06d", i);
                    puts.add(pool.submit(() -> {
                        versions.put(key, source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(body)).versionId());
                        acked.put(key, Instant.now());
                    }));
                }
                for (Future<?> f : puts) {
                    f.get();
                }
            }
            Instant lastPut = Instant.now();
            var status = new DynamoDbReplicationStatusStore(dynamo, config.dynamodb().tables().status(), Clock.systemUTC());
            long deadline = System.currentTimeMillis() + 600_000;
            while (countObjects(dest, "dest-bucket", bucket + "/") < objects) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("not all objects replicated within 10 minutes");
                }
                Thread.sleep(200);
            }
            List<Double> latencies = new ArrayList<>();
            Instant lastCompleted = firstPut;
            for (Map.Entry<String, String> v : versions.entrySet()) {
                SiteOutcome outcome = null;
                while (outcome == null || outcome.updatedAt() == null || !outcome.status().isFinal()) {
                    outcome = status.find(new VersionRef(bucket, v.getKey(), v.getValue())).map(s -> s.sites().get("aws-location")).orElse(null);
                    if (outcome == null || !outcome.status().isFinal()) {
                        Thread.sleep(50);
                    }
                }
                Instant done = Instant.parse(outcome.updatedAt());
                lastCompleted = done.isAfter(lastCompleted) ? done : lastCompleted;
                latencies.add((double) java.time.Duration.between(acked.get(v.getKey()), done).toMillis());
            }
            double oursSeconds = java.time.Duration.between(firstPut, lastCompleted).toMillis() / 1000.0;
            double putSeconds = java.time.Duration.between(firstPut, lastPut).toMillis() / 1000.0;
            System.out.printf("ours: %d objects in %.2f s (puts took %.2f s): %.0f objects/s; latency p50 %.0f ms, p95 %.0f ms, p99 %.0f ms%n",
                    objects, oursSeconds, putSeconds, objects / oursSeconds, Stats.percentile(latencies, 50),
                    Stats.percentile(latencies, 95), Stats.percentile(latencies, 99));

            // Baselines between the same two servers, from the same source objects.
            double rawSeconds = rawCopy(source, dest, bucket, versions);
            System.out.printf("raw SDK GET+PUT loop (%d threads): %.2f s, %.0f objects/s%n", concurrency, rawSeconds, objects / rawSeconds);
            double rcloneDefault = rclone(config, bucket, "rclone-default", List.of());
            System.out.printf("rclone copy (--transfers %d): %.2f s, %.0f objects/s%n", concurrency, rcloneDefault, objects / rcloneDefault);
            double rcloneTuned = rclone(config, bucket, "rclone-tuned", List.of("--s3-no-check-bucket", "--no-check-dest", "--s3-no-head"));
            System.out.printf("rclone copy tuned: %.2f s, %.0f objects/s%n", rcloneTuned, objects / rcloneTuned);
            System.out.println();
            System.out.println("| objects | ours obj/s | p50 / p95 / p99 ms | raw SDK obj/s | rclone obj/s | rclone tuned obj/s | ours/rclone tuned | ours/raw |");
            System.out.printf("| %d x %d B | %.0f | %.0f / %.0f / %.0f | %.0f | %.0f | %.0f | %.2f | %.2f |%n", objects, size, objects / oursSeconds,
                    Stats.percentile(latencies, 50), Stats.percentile(latencies, 95), Stats.percentile(latencies, 99),
                    objects / rawSeconds, objects / rcloneDefault, objects / rcloneTuned, rcloneTuned / oursSeconds, rawSeconds / oursSeconds);
        }
        return 0;
    }

    private double rawCopy(S3Client source, S3Client dest, String bucket, Map<String, String> versions) throws Exception {
        dest.createBucket(r -> r.bucket("raw-" + bucket));
        long started = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(concurrency)) {
            List<Future<?>> copies = new ArrayList<>();
            for (Map.Entry<String, String> v : versions.entrySet()) {
                copies.add(pool.submit(() -> {
                    byte[] data = source.getObjectAsBytes(r -> r.bucket(bucket).key(v.getKey()).versionId(v.getValue())).asByteArray();
                    dest.putObject(r -> r.bucket("raw-" + bucket).key(v.getKey()), RequestBody.fromBytes(data));
                }));
            }
            for (Future<?> f : copies) {
                f.get();
            }
        }
        return (System.nanoTime() - started) / 1e9;
    }

    private double rclone(BackbeatConfig config, String bucket, String target, List<String> extra) throws Exception {
        try (S3Client dest = AwsClients.s3(config.requireSite("aws-location").endpoint(), 2)) {
            dest.createBucket(r -> r.bucket(target + "-" + bucket)); // --s3-no-check-bucket will not create it
        }
        Path conf = Files.createTempFile("rclone", ".conf");
        Files.writeString(conf, remote("src", config.source().endpoint().url()) + remote("dst", config.requireSite("aws-location").endpoint().url()));
        List<String> command = new ArrayList<>(List.of(rclone.toString(), "--config", conf.toString(), "copy",
                "src:" + bucket, "dst:" + target + "-" + bucket, "--transfers", Integer.toString(concurrency), "--checkers",
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
    }

    private static String remote(String name, String url) {
        return "[" + name + "]\ntype = s3\nprovider = Other\naccess_key_id = accessKey1\nsecret_access_key = verySecretKey1\n"
                + "endpoint = " + url + "\nregion = us-east-1\nforce_path_style = true\n\n";
    }

    private static long countObjects(S3Client s3, String bucket, String prefix) {
        long count = 0;
        for (ListObjectsV2Response page : s3.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(prefix))) {
            count += page.keyCount();
        }
        return count;
    }
}
