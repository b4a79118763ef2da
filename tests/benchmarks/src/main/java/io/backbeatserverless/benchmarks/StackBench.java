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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fresh embedded stack replicating to one site, the clients a small-object run needs, and the baselines that copy
 * the same versions between the same two servers (the AWS SDK with its defaults, rclone).
 */
final class StackBench implements AutoCloseable {

    static final String SITE = "aws-location";
    /** Where S3 Inventory reports of the bench's buckets go (on the source's and the site's server). */
    static final String INVENTORY_BUCKET = "inventory-reports";

    final BackbeatConfig config;
    final EmbeddedStack stack;
    final S3Client source;
    final S3Client destination;
    final DynamoDbClient dynamo;
    final DynamoDbMetricsStore metrics;
    private final int concurrency;
    /** The record-log feed's journal, which {@link #put} writes to; null on the other feeds. */
    private final RecordLogServer recordLog;

    /**
     * @param feed                 s3-events (the source server's event notifications via SQS) or listing
     * @param functionsInProcesses the populator, replicator and status processor each in a JVM of its own (so each one's
     *                             CPU is measured alone), else in the stack's JVM
     */
    StackBench(String feed, int concurrency, boolean functionsInProcesses) throws Exception {
        this.concurrency = concurrency;
        String file = switch (feed) {
            case "s3-events" -> "localstack/backbeat-s3-events.json";
            case "listing", "record-log" -> "localstack/backbeat.json";
            default -> throw new IllegalArgumentException("--feed must be s3-events, record-log or listing, not '" + feed + "'");
        };
        BackbeatConfig onFreePorts = EmbeddedStack.onFreePorts(BackbeatConfig.load(Path.of(file)));
        recordLog = feed.equals("record-log") ? RecordLogServer.start() : null;
        BackbeatConfig withFeed = recordLog == null ? onFreePorts : onFreePorts.withSource(onFreePorts.source().withFeed(new BackbeatConfig.FeedSettings(
                BackbeatConfig.FeedSettings.CLOUDSERVER_RECORD_LOG, 20, recordLog.url(), null, null, 1000)));
        // Verify by inventory reports for any bucket whose source has one (verify-speed writes them; the others, none).
        String reports = "s3://" + INVENTORY_BUCKET + "/inventories";
        config = withFeed.withOps(withFeed.ops().withVerifyInventory(new BackbeatConfig.InventorySettings("backbeat", 1, reports,
                Map.of(SITE, reports))));
        EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
        stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), "3g", "2g", java.util.Set.of(), null)
                .withFunctionsInProcesses(functionsInProcesses));
        source = AwsClients.s3(config.source().endpoint(), concurrency * 2);
        destination = AwsClients.s3(config.requireSite(SITE).endpoint(), concurrency * 2);
        dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint());
        for (S3Client s3 : List.of(source, destination)) {
            try {
                s3.createBucket(r -> r.bucket(INVENTORY_BUCKET));
            } catch (software.amazon.awssdk.services.s3.model.S3Exception exists) {
                // one server holds both sides
            }
        }
        metrics = new DynamoDbMetricsStore(dynamo, config.dynamodb().tables().metrics());
    }

    /** Every process of the stack whose CPU is counted: the stack's servers and, when apart, its functions. */
    Map<String, Long> pids() {
        Map<String, Long> pids = new LinkedHashMap<>(stack.serverPids());
        pids.putAll(stack.functionPids());
        return pids;
    }

    /** A new versioned bucket, with no replication rule yet. */
    String versionedBucket(String prefix) {
        String bucket = prefix + "-" + Long.toHexString(System.nanoTime());
        source.createBucket(r -> r.bucket(bucket));
        source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        return bucket;
    }

    /** One rule (prefix "", the first schema: delete markers replicated too) replicating the whole bucket to the site. */
    void putRule(String bucket) {
        source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                .role("arn:aws:iam::root:role/bench").rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                        .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass(SITE))).build()));
    }

    String replicatedBucket() {
        String bucket = versionedBucket("bench");
        putRule(bucket);
        return bucket;
    }

    /** Puts {@code count} objects named prefix + number with this bench's threads, as fast as they go. */
    void putAll(String bucket, String prefix, int count, byte[] body, Map<String, String> versions, Map<String, Instant> acked)
            throws Exception {
        LoadGenerator.burst(concurrency, count, i -> put(bucket, String.format("%s%06d", prefix, i), body, versions, acked));
    }

    void put(String bucket, String key, byte[] body, Map<String, String> versions, Map<String, Instant> acked) {
        var put = source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(body));
        if (recordLog != null) {
            recordLog.logPut(bucket, key, put.versionId(), body.length, put.eTag(), SITE);
        }
        versions.put(key, put.versionId());
        acked.put(key, Instant.now());
    }

    /** Replicates {@code count} objects of another bucket and waits for them: JIT compilation happens here. */
    void warmUp(byte[] body, int count) throws Exception {
        if (count <= 0) {
            return;
        }
        String bucket = replicatedBucket();
        Counters before = metrics.totals(SITE);
        putAll(bucket, "w", count, body, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
        awaitOutcomes(before, count, Duration.ofMinutes(5));
    }

    String newDestinationBucket(String prefix) {
        String bucket = prefix + "-" + Long.toHexString(System.nanoTime());
        destination.createBucket(r -> r.bucket(bucket));
        return bucket;
    }

    long outcomesSince(Counters before) {
        Counters now = metrics.totals(SITE);
        return (now.completed() + now.failed() + now.skipped()) - (before.completed() + before.failed() + before.skipped());
    }

    /** Waits (polling the site's outcome counters, one small read) until {@code count} more outcomes were recorded. */
    void awaitOutcomes(Counters before, long count, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            long outcomes = outcomesSince(before);
            if (outcomes >= count) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + outcomes + " of " + count + " outcomes recorded within " + limit);
            }
            Thread.sleep(50);
        }
    }

    /** Each version's put-acknowledged-to-replica-written latency, and when the last replica was written. */
    record Latencies(List<Double> millis, Instant lastDone, long notCompleted) {
        double percentile(double p) {
            return Stats.percentile(millis, p);
        }
    }

    /** @param acked when each version's put was acknowledged */
    Latencies latencies(String bucket, Map<String, String> versions, Map<String, Instant> acked) throws Exception {
        var status = new DynamoDbReplicationStatusStore(dynamo, config.dynamodb().tables().status(), Clock.systemUTC());
        List<Double> millis = Collections.synchronizedList(new ArrayList<>());
        List<Instant> done = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger notCompleted = new AtomicInteger();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<?>> reads = new ArrayList<>();
            for (Map.Entry<String, String> e : versions.entrySet()) {
                VersionRef v = new VersionRef(bucket, e.getKey(), e.getValue());
                reads.add(pool.submit(() -> {
                    SiteOutcome outcome = status.find(v).map(s -> s.sites().get(SITE)).orElse(null);
                    if (outcome == null || outcome.status() != ReplicationStatus.COMPLETED || outcome.updatedAt() == null) {
                        notCompleted.incrementAndGet();
                        return;
                    }
                    Instant at = Instant.parse(outcome.updatedAt());
                    done.add(at);
                    millis.add((double) Duration.between(acked.get(v.objectKey()), at).toMillis());
                }));
            }
            for (Future<?> r : reads) {
                r.get();
            }
        }
        return new Latencies(millis, done.stream().max(Instant::compareTo).orElseThrow(), notCompleted.get());
    }

    /** GET+PUT with an S3 client built with nothing but endpoint, region, credentials and path style; returns seconds. */
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
            double seconds = (System.nanoTime() - started) / 1e9;
            emptyDestination(target);
            return seconds;
        }
    }

    /**
     * Removes a copier's objects from the site server once it is timed (not counted): the servers hold every object in
     * their heap, and at 100,000 versions four copies (ours, the two loops, rclone) held at once are 400,000 objects.
     */
    void emptyDestination(String bucket) throws Exception {
        List<software.amazon.awssdk.services.s3.model.ObjectVersion> versions = new ArrayList<>();
        destination.listObjectVersionsPaginator(r -> r.bucket(bucket)).versions().forEach(versions::add);
        try (ExecutorService pool = Executors.newFixedThreadPool(concurrency)) {
            List<Future<?>> deletes = new ArrayList<>();
            for (var v : versions) {
                deletes.add(pool.submit(() -> destination.deleteObject(r -> r.bucket(bucket).key(v.key()).versionId(v.versionId()))));
            }
            for (Future<?> f : deletes) {
                f.get();
            }
        }
    }

    /** The leanest loop ({@link LeanCopyLoop}) over the same versions into a new bucket; returns seconds. */
    double leanCopy(String bucket, List<Map.Entry<String, String>> versions) throws Exception {
        String target = newDestinationBucket("lean");
        double seconds = LeanCopyLoop.copy(config.source().endpoint().uri(), config.requireSite(SITE).endpoint().uri(), bucket,
                target, versions, concurrency);
        emptyDestination(target);
        return seconds;
    }

    /** What an rclone copy took: wall seconds, and CPU milliseconds of rclone itself (user and system, from the shell's {@code times}). */
    record RcloneRun(double seconds, double cpuMillis) {
    }

    /** Longest an rclone copy may take: ten times what the largest race copies take here. */
    private static final java.time.Duration RCLONE_LIMIT = java.time.Duration.ofMinutes(10);

    /** {@code rclone copy} of the bucket (its latest versions) into a new bucket; stopped, with its children, after {@link #RCLONE_LIMIT}. */
    RcloneRun rclone(Path rclone, String bucket, String prefix, List<String> extra) throws Exception {
        String target = newDestinationBucket(prefix); // --s3-no-check-bucket will not create it
        Path conf = Files.createTempFile("rclone", ".conf");
        Path times = Files.createTempFile("rclone", ".times");
        try {
            Files.writeString(conf, remote("src", config.source().endpoint().url()) + remote("dst", config.requireSite(SITE).endpoint().url()));
            List<String> command = new ArrayList<>(List.of(rclone.toString(), "--config", conf.toString(), "copy",
                    "src:" + bucket, "dst:" + target, "--transfers", Integer.toString(concurrency), "--checkers",
                    Integer.toString(concurrency), "-q"));
            command.addAll(extra);
            // Through a shell whose `times` prints its children's CPU once rclone has exited.
            List<String> shell = new ArrayList<>(List.of("bash", "-c", "\"$@\"; rc=$?; times > '" + times + "'; exit $rc", "rclone"));
            shell.addAll(command);
            ProcessBuilder builder = new ProcessBuilder(shell).inheritIO();
            builder.environment().remove("AWS_CA_BUNDLE");
            long started = System.nanoTime();
            Process process = builder.start();
            // rclone retries a server that is gone for as long as it is left to: one left behind by an interrupted run
            // kept going for an hour. So it is stopped, with its children, at the limit or when this JVM is stopped.
            Thread stopOnExit = new Thread(() -> stopTree(process));
            Runtime.getRuntime().addShutdownHook(stopOnExit);
            try {
                if (!process.waitFor(RCLONE_LIMIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("rclone did not finish within " + RCLONE_LIMIT + "; stopped");
                }
            } finally {
                stopTree(process);
                try {
                    Runtime.getRuntime().removeShutdownHook(stopOnExit);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or about to: it stops the same processes
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            if (process.exitValue() != 0) {
                throw new IllegalStateException("rclone exited with " + process.exitValue());
            }
            return new RcloneRun(seconds, childrenCpuMillis(Files.readAllLines(times)));
        } finally {
            Files.deleteIfExists(conf);
            Files.deleteIfExists(times);
        }
    }

    private static void stopTree(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** The second line of bash's {@code times} ("0m1.234s 0m0.567s": the children's user and system time), in ms. */
    private static double childrenCpuMillis(List<String> times) {
        double total = 0;
        for (String field : times.get(1).strip().split("\\s+")) {
            var m = java.util.regex.Pattern.compile("(\\d+)m([\\d.]+)s").matcher(field);
            if (m.matches()) {
                total += Long.parseLong(m.group(1)) * 60_000 + Double.parseDouble(m.group(2)) * 1000;
            }
        }
        return total;
    }

    /** rclone tuned for a copy into an empty bucket: no bucket check, no destination listing, no HEAD after each PUT. */
    static final List<String> RCLONE_TUNED = List.of("--s3-no-check-bucket", "--no-check-dest", "--s3-no-head");

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
        if (recordLog != null) {
            recordLog.close();
        }
    }
}
