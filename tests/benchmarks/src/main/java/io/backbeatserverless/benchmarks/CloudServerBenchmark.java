package io.backbeatserverless.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.Endpoint;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.core.metadata.CloudServerVersionIds;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.localstack.EmbeddedKafka;
import io.backbeatserverless.localstack.EmbeddedStack;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The record-log feed end to end with a CloudServer as the source: objects are put to the operator's own
 * CloudServer (its S3 port), the populator reads its record log, the replicator copies to an {@code aws_s3}
 * site (a local S3 server the stack starts) or to a {@code scality} site (the same CloudServer, through its
 * backbeat routes), and the status processor writes COMPLETED back into the source's metadata.
 * <p>
 * When a version shows COMPLETED on the source is read from the record log itself: CloudServer logs every
 * metadata write with its time, the status write-back included, so the measurement adds no request to the
 * server under test. When the replica was written is the replicator's completion time in the status table.
 * The ops API's backlog (the same counters it serves) is sampled every 100 ms.
 * <p>
 * Needs a CloudServer with the file metadata backend, {@code recordLog.enabled} and its metadata REST port,
 * whose {@code replicationEndpoints} name the sites given here; start it fresh (an empty record log), or
 * the populator replays the old log first.
 */
@Command(name = "cloudserver", mixinStandardHelpOptions = true,
        description = "CloudServer source on the record-log feed: objects/s and put-to-COMPLETED latency on the source, to an aws_s3 and a scality site.")
final class CloudServerBenchmark implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--s3", defaultValue = "http://127.0.0.1:8000", description = "the CloudServer's S3 endpoint (default: ${DEFAULT-VALUE})")
    URI s3;
    @Option(names = "--record-log", defaultValue = "http://127.0.0.1:9000/MDFile/recordLog",
            description = "its record log on the metadata REST port (default: ${DEFAULT-VALUE})")
    URI recordLog;
    @Option(names = "--access-key", defaultValue = "accessKey1", description = "(default: ${DEFAULT-VALUE})")
    String accessKey;
    @Option(names = "--secret-key", defaultValue = "verySecretKey1", description = "(default: ${DEFAULT-VALUE})")
    String secretKey;
    @Option(names = "--aws-site", defaultValue = "us-east-2",
            description = "name of the aws_s3 site, one of the CloudServer's replicationEndpoints; '-' skips it (default: ${DEFAULT-VALUE})")
    String awsSite;
    @Option(names = "--scality-site", defaultValue = "zenko",
            description = "name of the scality site (the same CloudServer), one of its replicationEndpoints; '-' skips it (default: ${DEFAULT-VALUE})")
    String scalitySite;
    @Option(names = "--objects", defaultValue = "2000", description = "objects per burst run (default: ${DEFAULT-VALUE})")
    int objects;
    @Option(names = "--size", defaultValue = "4096", description = "bytes per object (default: ${DEFAULT-VALUE})")
    int size;
    @Option(names = "--concurrency", defaultValue = "16", description = "put threads (default: ${DEFAULT-VALUE})")
    int concurrency;
    @Option(names = "--warmup", defaultValue = "300", description = "objects replicated on each fresh stack before measuring (default: ${DEFAULT-VALUE})")
    int warmup;
    @Option(names = "--runs", defaultValue = "3", description = "runs of each part (default: ${DEFAULT-VALUE})")
    int runs;
    @Option(names = "--steady-seconds", defaultValue = "60", description = "length of each steady-rate run; 0 skips them (default: ${DEFAULT-VALUE})")
    int steadySeconds;
    @Option(names = "--feed-interval-ms", defaultValue = "0", description = "the record-log feed's wait after a read that found nothing;"
            + " 0 keeps the configuration's default (default: ${DEFAULT-VALUE})")
    long feedIntervalMs;
    @Option(names = "--backfill-objects", defaultValue = "0",
            description = "objects put before their bucket has a rule, then replicated by a backfill job (aws_s3 site only); 0 skips it (default: ${DEFAULT-VALUE})")
    int backfillObjects;

    @Option(names = "--results", defaultValue = "docs/benchmarks.md", description = "page the tables are written to; '-' for none (default: ${DEFAULT-VALUE})")
    String results;

    /** One burst: puts as fast as {@code concurrency} threads go, then until every version is COMPLETED on the source. */
    record Burst(double putRate, double replicatedRate, double completedRate, double lastReplicaToLastCompleted, double backlogZeroAfterLastReplica,
                 Latency replica, Latency completed, int notCompleted) {
    }

    /** One steady run: puts paced at a fixed rate. */
    record Steady(double targetRate, double achievedRate, int objects, Latency replica, Latency completed, int notCompleted) {
    }

    /**
     * One backfill job (issue 29) of versions put before their bucket had a rule: from the job's start until the last
     * version is at the site (its page's outcome recorded: the status table) and until the last shows COMPLETED on the
     * source (the record log, which logs the status write-back).
     */
    record Backfill(int versions, double atSiteSeconds, double completedSeconds, int notCompleted) {
        double atSiteRate() {
            return versions / atSiteSeconds;
        }

        double completedRate() {
            return versions / completedSeconds;
        }
    }

    record Latency(double p50, double p99, double max) {
        static Latency of(List<Double> millis) {
            return millis.isEmpty() ? new Latency(Double.NaN, Double.NaN, Double.NaN)
                    : new Latency(Stats.percentile(millis, 50), Stats.percentile(millis, 99), Stats.max(millis));
        }
    }

    @Override
    public Integer call() throws Exception {
        StringBuilder tables = new StringBuilder();
        for (String[] target : List.of(new String[] {"aws_s3", awsSite}, new String[] {"scality", scalitySite})) {
            if ("-".equals(target[1])) {
                continue;
            }
            // One stack per kind of site, every run on it with a bucket of its own: the populator of a fresh stack
            // reads the record log from its start (as Backbeat's does), so the warm-up waits out any replay.
            List<Burst> bursts = new ArrayList<>();
            List<Steady> steady = new ArrayList<>();
            List<Backfill> backfills = new ArrayList<>();
            try (Bench bench = new Bench(target[0], target[1])) {
                bench.warmUp();
                for (int i = 1; i <= runs && backfillObjects > 0 && target[0].equals("aws_s3"); i++) {
                    bench.awaitBacklogZero();
                    Backfill b = bench.backfill();
                    System.out.printf("%s backfill %d: %s%n", target[0], i, b);
                    backfills.add(b);
                }
                for (int i = 1; i <= runs; i++) {
                    bench.awaitBacklogZero();
                    Burst burst = bench.burst();
                    System.out.printf("%s burst %d: %s%n", target[0], i, burst);
                    bursts.add(burst);
                }
                double half = Stats.median(bursts.stream().map(Burst::completedRate).toList()) / 2;
                for (int i = 1; i <= runs && steadySeconds > 0; i++) {
                    bench.awaitBacklogZero();
                    Steady s = bench.steady(half);
                    System.out.printf("%s steady %d: %s%n", target[0], i, s);
                    steady.add(s);
                }
            }
            tables.append(backfillTable(target[0], backfills)).append(table(target[0], bursts, steady)).append('\n');
        }
        System.out.println();
        System.out.println(tables);
        if (!"-".equals(results)) {
            ResultsPage.write(Path.of(results), "cloudserver", "tests/benchmarks/run cloudserver --s3 " + s3 + " --record-log " + recordLog
                    + " --aws-site " + awsSite + " --scality-site " + scalitySite + " --objects " + objects + " --size " + size
                    + " --concurrency " + concurrency + (feedIntervalMs > 0 ? " --feed-interval-ms " + feedIntervalMs : "") + " --warmup " + warmup + " --runs " + runs + " --steady-seconds " + steadySeconds
                    + (backfillObjects > 0 ? " --backfill-objects " + backfillObjects : ""), tables.toString());
        }
        return 0;
    }

    private String table(String kind, List<Burst> bursts, List<Steady> steady) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%s site: %d x %d B put by %d threads to a CloudServer source, record-log feed%n%n", kind, objects, size, concurrency));
        out.append("| run | puts/s | replicated objects/s | COMPLETED on source objects/s | last replica to last COMPLETED s"
                + " | backlog 0 after last replica s | put to replica p50 / p99 ms | put to source COMPLETED p50 / p99 / max ms |\n");
        out.append("|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < bursts.size(); i++) {
            Burst b = bursts.get(i);
            out.append(String.format("| %d | %.0f | %.0f | %.0f%s | %.1f | %.1f | %.0f / %.0f | %.0f / %.0f / %.0f |%n", i + 1, b.putRate(), b.replicatedRate(),
                    b.completedRate(), b.notCompleted() > 0 ? " (" + b.notCompleted() + " never)" : "", b.lastReplicaToLastCompleted(),
                    b.backlogZeroAfterLastReplica(), b.replica().p50(), b.replica().p99(), b.completed().p50(), b.completed().p99(), b.completed().max()));
        }
        out.append(String.format("| median | %.0f | %.0f | %.0f | %.1f | %.1f | %.0f / %.0f | %.0f / %.0f / %.0f |%n",
                median(bursts, Burst::putRate), median(bursts, Burst::replicatedRate), median(bursts, Burst::completedRate),
                median(bursts, Burst::lastReplicaToLastCompleted), median(bursts, Burst::backlogZeroAfterLastReplica),
                median(bursts, b -> b.replica().p50()), median(bursts, b -> b.replica().p99()), median(bursts, b -> b.completed().p50()),
                median(bursts, b -> b.completed().p99()), median(bursts, b -> b.completed().max())));
        if (!steady.isEmpty()) {
            out.append(String.format("%n%s site, steady rate (half the median COMPLETED rate above) for %d s%n%n", kind, steadySeconds));
            out.append("| run | target puts/s | achieved puts/s | objects | put to replica p50 / p99 ms | put to source COMPLETED p50 / p99 / max ms |\n");
            out.append("|---|---|---|---|---|---|\n");
            for (int i = 0; i < steady.size(); i++) {
                Steady s = steady.get(i);
                out.append(String.format("| %d | %.0f | %.0f | %d%s | %.0f / %.0f | %.0f / %.0f / %.0f |%n", i + 1, s.targetRate(), s.achievedRate(), s.objects(),
                        s.notCompleted() > 0 ? " (" + s.notCompleted() + " never COMPLETED)" : "", s.replica().p50(), s.replica().p99(),
                        s.completed().p50(), s.completed().p99(), s.completed().max()));
            }
            out.append(String.format("| median | | | | %.0f / %.0f | %.0f / %.0f / %.0f |%n", median(steady, s -> s.replica().p50()),
                    median(steady, s -> s.replica().p99()), median(steady, s -> s.completed().p50()), median(steady, s -> s.completed().p99()),
                    median(steady, s -> s.completed().max())));
        }
        return out.toString();
    }

    private String backfillTable(String kind, List<Backfill> runs) {
        if (runs.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        out.append(kind).append(" site: a backfill job of ").append(backfillObjects).append(" x ").append(size)
                .append(" B put to a CloudServer source before the bucket had a rule\n\n");
        out.append("| run | versions | at the site s | versions/s | COMPLETED on the source s | versions/s | not COMPLETED |\n");
        out.append("|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < runs.size(); i++) {
            Backfill b = runs.get(i);
            out.append(String.format("| %d | %d | %.1f | %.0f | %.1f | %.0f | %d |%n", i + 1, b.versions(), b.atSiteSeconds(), b.atSiteRate(),
                    b.completedSeconds(), b.completedRate(), b.notCompleted()));
        }
        out.append(String.format("| median | | %.1f | %.0f | %.1f | %.0f | |%n", median(runs, Backfill::atSiteSeconds), median(runs, Backfill::atSiteRate),
                median(runs, Backfill::completedSeconds), median(runs, Backfill::completedRate)));
        return out.append('\n').toString();
    }

    private static <T> double median(List<T> runs, java.util.function.ToDoubleFunction<T> value) {
        return Stats.median(runs.stream().map(value::applyAsDouble).toList());
    }

    /** A fresh embedded stack replicating from the CloudServer to one site, and the clients a run needs. */
    private final class Bench implements AutoCloseable {
        final String site;
        final BackbeatConfig config;
        final EmbeddedStack stack;
        final S3Client source;
        final DynamoDbClient dynamo;
        final DynamoDbMetricsStore metrics;
        final DynamoDbReplicationStatusStore status;
        final String destinationBucket = "bench-dest-" + Long.toHexString(System.nanoTime());
        final byte[] body = new byte[size];

        Bench(String kind, String site) throws Exception {
            this.site = site;
            ThreadLocalRandom.current().nextBytes(body);
            Endpoint cloudServer = new Endpoint(s3.toString(), "us-east-1", accessKey, secretKey);
            source = AwsClients.s3(cloudServer, concurrency * 2);
            boolean external = kind.equals("scality");
            if (external) {
                versionedBucket(destinationBucket);
            }
            String siteUrl = external ? s3.toString() : "http://127.0.0.1:" + EmbeddedKafka.freePort();
            config = BackbeatConfig.parse("""
                    {"kafka": {"bootstrapServers": "127.0.0.1:%d", "partitions": 8},
                     "source": {"type": "cloudserver", "endpoint": %s,
                       "feed": {"type": "cloudserver-record-log", "url": "%s", "logName": "s3-recordlog", "intervalMs": %d}},
                     "sites": [{"name": "%s", "type": "%s", "external": %b, %s "endpoint": %s}],
                     "dynamodb": {"endpoint": %s},
                     "ops": {"port": %d, "credentials": [{"accessKeyId": "%s", "secretAccessKey": "%s"}]}}
                    """.formatted(EmbeddedKafka.freePort(), endpoint(s3.toString()), recordLog, feedIntervalMs, site, kind, external,
                    external ? "" : "\"bucket\": \"" + destinationBucket + "\", \"bucketMatch\": true,", endpoint(siteUrl),
                    endpoint("http://127.0.0.1:" + EmbeddedKafka.freePort()), EmbeddedKafka.freePort(), accessKey, secretKey));
            EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
            stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), "2g", "1g", java.util.Set.of(), null));
            dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint());
            metrics = new DynamoDbMetricsStore(dynamo, config.dynamodb().tables().metrics());
            status = new DynamoDbReplicationStatusStore(dynamo, config.dynamodb().tables().status(), Clock.systemUTC());
        }

        private String endpoint(String url) {
            return "{\"url\": \"%s\", \"region\": \"us-east-1\", \"accessKeyId\": \"%s\", \"secretAccessKey\": \"%s\"}".formatted(url, accessKey, secretKey);
        }

        private void versionedBucket(String bucket) {
            source.createBucket(r -> r.bucket(bucket));
            source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        }

        String replicatedBucket() {
            String bucket = "bench-" + Long.toHexString(System.nanoTime());
            versionedBucket(bucket);
            putRule(bucket);
            return bucket;
        }

        /**
         * Puts {@code backfillObjects} to a bucket with no rule (CloudServer gives them no replication status), puts the rule,
         * starts a backfill job of the bucket as {@code POST /_/backfill/jobs} does (its item in the job store), and times it.
         */
        Backfill backfill() throws Exception {
            String bucket = "bench-bf-" + Long.toHexString(System.nanoTime());
            versionedBucket(bucket);
            Map<String, String> versions = new ConcurrentHashMap<>();
            // Keys of this run only: the site's bucket is shared by the runs (bucketMatch), and a page takes a key whose site
            // history has its versions' sizes and ETags for done, so another run's replicas of the same keys and bytes would
            // pass for this run's (docs/benchmarks.md: the first try's runs 2 and 3 copied next to nothing).
            LoadGenerator.burst(concurrency, backfillObjects, i -> put(bucket, String.format("%s-%06d", bucket, i), versions, new ConcurrentHashMap<>()));
            var jobs = new io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore(dynamo, config.dynamodb().tables().status());
            try (RecordLogTail tail = new RecordLogTail(bucket)) {
                putRule(bucket);
                Instant started = Instant.now();
                String id = "bench-" + Long.toHexString(System.nanoTime());
                jobs.create(new io.backbeatserverless.core.backfill.BackfillJob(id, bucket, null, List.of(), io.backbeatserverless.core.backfill.BackfillJob.State.LISTING,
                        started.toString(), null, 0, 0, 0, null, Map.of(), null));
                tail.awaitCompleted(versions.values(), Duration.ofMinutes(30));
                Instant lastAtSite = Instant.EPOCH;
                for (Map.Entry<String, String> v : versions.entrySet()) {
                    SiteOutcome outcome = status.find(new VersionRef(bucket, v.getKey(), CloudServerVersionIds.toInternal(v.getValue())))
                            .map(s -> s.sites().get(site)).orElse(null);
                    if (outcome != null && outcome.status() == ReplicationStatus.COMPLETED && outcome.updatedAt() != null
                            && Instant.parse(outcome.updatedAt()).isAfter(lastAtSite)) {
                        lastAtSite = Instant.parse(outcome.updatedAt());
                    }
                }
                Instant lastCompleted = versions.values().stream().map(tail::completedAt).filter(java.util.Objects::nonNull)
                        .max(Instant::compareTo).orElse(Instant.now());
                int notCompleted = (int) versions.values().stream().filter(v -> tail.completedAt(v) == null).count();
                return new Backfill(versions.size(), Duration.between(started, lastAtSite).toMillis() / 1000.0,
                        Duration.between(started, lastCompleted).toMillis() / 1000.0, notCompleted);
            }
        }

        private void putRule(String bucket) {
            // CloudServer wants two roles (source, destination) when it writes to its own kind of site.
            source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                    .role("arn:aws:iam::root:role/bench-source,arn:aws:iam::root:role/bench-destination")
                    .rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                            .destination(d -> d.bucket("arn:aws:s3:::" + destinationBucket).storageClass(site))).build()));
        }

        Burst burst() throws Exception {
            String bucket = replicatedBucket();
            try (RecordLogTail tail = new RecordLogTail(bucket); BacklogSampler backlog = new BacklogSampler()) {
                Map<String, String> versions = new ConcurrentHashMap<>();
                Map<String, Instant> acked = new ConcurrentHashMap<>();
                Instant firstPut = Instant.now();
                LoadGenerator.burst(concurrency, objects, i -> put(bucket, String.format("o%06d", i), versions, acked));
                Instant lastPut = Instant.now();
                tail.awaitCompleted(versions.values(), Duration.ofMinutes(15));
                Instant backlogZero = backlog.awaitZero(Duration.ofMinutes(1));
                Results r = results(bucket, versions, acked, tail);
                double seconds = Duration.between(firstPut, r.lastCompleted()).toMillis() / 1000.0;
                return new Burst(objects / (Duration.between(firstPut, lastPut).toMillis() / 1000.0),
                        objects / (Duration.between(firstPut, r.lastReplica()).toMillis() / 1000.0), objects / seconds,
                        Duration.between(r.lastReplica(), r.lastCompleted()).toMillis() / 1000.0,
                        Duration.between(r.lastReplica(), backlogZero).toMillis() / 1000.0, r.replica(), r.completed(), r.notCompleted());
            }
        }

        Steady steady(double rate) throws Exception {
            String bucket = replicatedBucket();
            int total = (int) Math.round(rate * steadySeconds);
            try (RecordLogTail tail = new RecordLogTail(bucket)) {
                Map<String, String> versions = new ConcurrentHashMap<>();
                Map<String, Instant> acked = new ConcurrentHashMap<>();
                double achieved = LoadGenerator.paced(concurrency, total, rate, i -> put(bucket, String.format("s%06d", i), versions, acked));
                tail.awaitCompleted(versions.values(), Duration.ofMinutes(15));
                Results r = results(bucket, versions, acked, tail);
                return new Steady(rate, achieved, total, r.replica(), r.completed(), r.notCompleted());
            }
        }

        /** Replicates {@code warmup} objects of another bucket and waits until the source shows them COMPLETED. */
        void warmUp() throws Exception {
            if (warmup <= 0) {
                return;
            }
            String bucket = replicatedBucket();
            try (RecordLogTail tail = new RecordLogTail(bucket)) {
                Map<String, String> versions = new ConcurrentHashMap<>();
                LoadGenerator.burst(concurrency, warmup, i -> put(bucket, String.format("w%06d", i), versions, new ConcurrentHashMap<>()));
                tail.awaitCompleted(versions.values(), Duration.ofMinutes(5));
            }
        }

        void awaitBacklogZero() throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofMinutes(15).toNanos();
            while (metrics.totals(site).backlog() > 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the backlog of " + site + " is still " + metrics.totals(site).backlog() + " after 15 minutes");
                }
                Thread.sleep(200);
            }
        }

        private void put(String bucket, String key, Map<String, String> versions, Map<String, Instant> acked) {
            versions.put(key, source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(body)).versionId());
            acked.put(key, Instant.now());
        }

        record Results(Latency replica, Latency completed, Instant lastReplica, Instant lastCompleted, int notCompleted) {
        }

        private Results results(String bucket, Map<String, String> versions, Map<String, Instant> acked, RecordLogTail tail) {
            List<Double> replica = new ArrayList<>();
            List<Double> completed = new ArrayList<>();
            Instant lastReplica = Instant.EPOCH;
            Instant lastCompleted = Instant.EPOCH;
            int notCompleted = 0;
            for (Map.Entry<String, String> v : versions.entrySet()) {
                Instant put = acked.get(v.getKey());
                SiteOutcome outcome = status.find(new VersionRef(bucket, v.getKey(), CloudServerVersionIds.toInternal(v.getValue())))
                        .map(s -> s.sites().get(site)).orElse(null);
                if (outcome != null && outcome.status() == ReplicationStatus.COMPLETED && outcome.updatedAt() != null) {
                    Instant at = Instant.parse(outcome.updatedAt());
                    replica.add((double) Duration.between(put, at).toMillis());
                    lastReplica = at.isAfter(lastReplica) ? at : lastReplica;
                }
                Instant at = tail.completedAt(v.getValue());
                if (at == null) {
                    notCompleted++;
                    continue;
                }
                completed.add((double) Duration.between(put, at).toMillis());
                lastCompleted = at.isAfter(lastCompleted) ? at : lastCompleted;
            }
            return new Results(Latency.of(replica), Latency.of(completed), lastReplica, lastCompleted, notCompleted);
        }

        /**
         * Follows the record log from its current end and notes, per version of one bucket, when its
         * metadata was first written with {@code replicationInfo.status} COMPLETED.
         */
        private final class RecordLogTail implements AutoCloseable {
            private final String bucket;
            private final Map<String, Instant> completed = new ConcurrentHashMap<>();
            private final AtomicLong next = new AtomicLong();
            private final HttpClient http = HttpClient.newHttpClient();
            private final Thread reader;
            private volatile boolean open = true;

            RecordLogTail(String bucket) throws Exception {
                this.bucket = bucket;
                next.set(firstUnwritten());
                reader = Thread.ofPlatform().daemon().name("record-log-tail").start(this::follow);
            }

            private void follow() {
                while (open) {
                    try {
                        JsonNode log = read(next.get()).path("result");
                        // info.end counts sequence numbers handed out to writes not committed yet: the next read
                        // starts after the last record returned, as the populator's does.
                        long first = Math.max(next.get(), log.path("info").path("start").asLong(next.get()));
                        int records = log.path("log").size();
                        for (JsonNode record : log.path("log")) {
                            if (!bucket.equals(record.path("db").asText())) {
                                continue;
                            }
                            Instant at = Instant.parse(record.path("timestamp").asText());
                            for (JsonNode entry : record.path("entries")) {
                                if (!"put".equals(entry.path("type").asText("put"))) {
                                    continue;
                                }
                                JsonNode value = JSON.readTree(entry.path("value").asText());
                                if ("COMPLETED".equals(value.path("replicationInfo").path("status").asText())) {
                                    completed.putIfAbsent(CloudServerVersionIds.toExternal(value.path("versionId").asText()), at);
                                }
                            }
                        }
                        if (records > 0) {
                            next.set(first + records);
                        } else {
                            Thread.sleep(50);
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        if (open) {
                            System.err.println("record log: " + e);
                        }
                    }
                }
            }

            /** The log's end, found by bisection with one-record reads: the log answers nothing past its end. */
            private long firstUnwritten() throws Exception {
                long written = 0;
                long unwritten = 1;
                while (read(unwritten, 1).path("result").path("log").size() > 0) {
                    written = unwritten;
                    unwritten *= 2;
                }
                while (unwritten - written > 1) {
                    long middle = (written + unwritten) >>> 1;
                    if (read(middle, 1).path("result").path("log").size() > 0) {
                        written = middle;
                    } else {
                        unwritten = middle;
                    }
                }
                return unwritten;
            }

            private JsonNode read(long startSeq) throws Exception {
                return read(startSeq, 1000);
            }

            private JsonNode read(long startSeq, int limit) throws Exception {
                String call = "{\"call\":\"readRecords\",\"args\":{\"logName\":\"s3-recordlog\",\"rpcArgs\":[{\"startSeq\":" + startSeq + ",\"limit\":" + limit + "}]}}";
                HttpResponse<String> answer = http.send(HttpRequest.newBuilder(recordLog).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(call)).build(), HttpResponse.BodyHandlers.ofString());
                if (answer.statusCode() != 200) {
                    throw new IllegalStateException("record log answered " + answer.statusCode() + ": " + answer.body());
                }
                return JSON.readTree(answer.body());
            }

            Instant completedAt(String s3VersionId) {
                return completed.get(s3VersionId);
            }

            void awaitCompleted(java.util.Collection<String> s3VersionIds, Duration limit) throws InterruptedException {
                long deadline = System.nanoTime() + limit.toNanos();
                while (!s3VersionIds.stream().allMatch(completed::containsKey)) {
                    if (System.nanoTime() > deadline) {
                        System.err.printf("only %d of %d versions COMPLETED on the source within %s%n",
                                s3VersionIds.stream().filter(completed::containsKey).count(), s3VersionIds.size(), limit);
                        return;
                    }
                    Thread.sleep(100);
                }
            }

            @Override
            public void close() throws InterruptedException {
                open = false;
                reader.interrupt();
                reader.join();
                http.close();
            }
        }

        /** Samples the site's backlog (what the ops API serves) and notes when it last turned zero. */
        private final class BacklogSampler implements AutoCloseable {
            private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
            private volatile Instant zeroSince;

            BacklogSampler() {
                timer.scheduleAtFixedRate(() -> {
                    long backlog = metrics.totals(site).backlog();
                    if (backlog > 0) {
                        zeroSince = null;
                    } else if (zeroSince == null) {
                        zeroSince = Instant.now();
                    }
                }, 0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
            }

            Instant awaitZero(Duration limit) throws InterruptedException {
                long deadline = System.nanoTime() + limit.toNanos();
                while (zeroSince == null && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                return zeroSince == null ? Instant.now() : zeroSince;
            }

            @Override
            public void close() {
                timer.shutdownNow();
            }
        }

        @Override
        public void close() {
            source.close();
            dynamo.close();
            stack.close();
        }
    }
}
