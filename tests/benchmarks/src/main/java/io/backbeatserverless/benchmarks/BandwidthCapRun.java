package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.localstack.EmbeddedStack;
import io.backbeatserverless.localstack.LocalS3Services;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A site's bandwidth limit on the embedded stack (issue 31): a backfill of {@code --total-mib} (default 1 GiB) in objects of
 * {@code --object-mib}, written before the bucket's rule, to a site capped at {@code --cap-bytes-per-second} (default 20 MB/s),
 * while a small object is put every half second on the live path. Prints how long the backfill took against what the cap
 * allows (its bytes / the cap), the bytes per second it achieved, and each small object's time to the site (they share the
 * cap with the backfill: a small object must not be starved behind it).
 */
@Command(name = "bandwidth-cap", mixinStandardHelpOptions = true,
        description = "A backfill to a site with sites[].maxBytesPerSecond: time against the cap, small objects' latency beside it.")
final class BandwidthCapRun implements Callable<Integer> {

    @Option(names = "--cap-bytes-per-second", defaultValue = "20000000", description = "the site's maxBytesPerSecond (default: ${DEFAULT-VALUE})")
    long cap;
    @Option(names = "--total-mib", defaultValue = "1024", description = "bytes of the backfill, in MiB (default: ${DEFAULT-VALUE})")
    int totalMib;
    @Option(names = "--object-mib", defaultValue = "8", description = "size of each backfilled object, in MiB (default: ${DEFAULT-VALUE})")
    int objectMib;
    @Option(names = "--invocations-at-once", defaultValue = "8", description = "the replicator's invocations at once, each on its own"
            + " partitions, as Lambda runs one per partition (eventSource.concurrency; 1: every partition through one) (default: ${DEFAULT-VALUE})")
    int invocationsAtOnce;
    @Option(names = "--results", defaultValue = "-", description = "page the table is written to (docs/benchmarks.md); '-' for none (default: ${DEFAULT-VALUE})")
    String results;

    private static final String SITE = "aws-location";

    @Override
    public Integer call() throws Exception {
        BackbeatConfig config = EmbeddedStack.onFreePorts(BackbeatConfig.load(Path.of("localstack/backbeat.json")));
        config = config.withSites(s -> s.name().equals(SITE) ? s.withMaxBytesPerSecond(cap) : s)
                .withEventSource(config.eventSource().withConcurrency(invocationsAtOnce));
        SiteConfig site = config.requireSite(SITE);
        EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
        try (EmbeddedStack stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), "1g", "512m", Set.of(), null)
                .withS3ObjectBytes(LocalS3Services.ObjectBytes.DISK));
             S3Client source = AwsClients.s3(config.source().endpoint(), 16);
             S3Client destination = AwsClients.s3(site.endpoint(), 8)) {
            String bucket = "capped-" + Long.toHexString(System.currentTimeMillis());
            source.createBucket(r -> r.bucket(bucket));
            source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
            int objects = Math.max(1, totalMib / objectMib);
            byte[] body = new byte[objectMib << 20];
            new java.util.Random(31).nextBytes(body);
            LoadGenerator.burst(8, objects, n -> source.putObject(r -> r.bucket(bucket).key(String.format("backfill/%05d", n)),
                    RequestBody.fromBytes(body)));
            long backfillBytes = (long) objects * body.length;
            System.out.printf("written before the rule: %d objects of %d MiB (%d bytes)%n", objects, objectMib, backfillBytes);

            long start = System.nanoTime();
            source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                    .role("arn:aws:iam::root:role/capped").rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                            .destination(d -> d.bucket("arn:aws:s3:::" + site.bucket()).storageClass(SITE))).build()));
            String prefix = site.bucketMatch() ? "" : bucket + "/";
            Map<String, Long> smallPut = new ConcurrentHashMap<>();
            Map<String, Long> smallArrived = new ConcurrentHashMap<>();
            Thread smallWriter = Thread.ofPlatform().name("small-writer").start(() -> {
                for (int n = 0; !Thread.currentThread().isInterrupted(); n++) {
                    String key = String.format("small/%05d", n);
                    try {
                        source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString("small " + key));
                        smallPut.put(key, System.nanoTime());
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            long backfillDone = -1;
            long arrived = 0;
            while (backfillDone < 0) {
                arrived = 0;
                long now = System.nanoTime();
                for (S3Object object : destination.listObjectsV2Paginator(r -> r.bucket(site.bucket()).prefix(prefix)).contents()) {
                    String key = object.key().substring(prefix.length());
                    if (key.startsWith("backfill/")) {
                        arrived++;
                    } else if (key.startsWith("small/")) {
                        smallArrived.putIfAbsent(key, now);
                    }
                }
                if (arrived == objects) {
                    backfillDone = now;
                } else if (java.time.Duration.ofNanos(now - start).toMinutes() > 30) {
                    throw new IllegalStateException("the backfill did not finish in 30 minutes: " + arrived + " of " + objects);
                } else {
                    Thread.sleep(250);
                }
            }
            smallWriter.interrupt();
            smallWriter.join();
            double seconds = (backfillDone - start) / 1e9;
            double expected = (double) backfillBytes / cap;
            List<Double> latencies = new ArrayList<>();
            smallPut.forEach((key, put) -> {
                Long at = smallArrived.get(key);
                if (at != null) {
                    latencies.add((at - put) / 1e9);
                }
            });
            latencies.sort(Double::compare);
            String table = String.format(java.util.Locale.ROOT, """
                    | | value |
                    |---|---|
                    | cap (sites[].maxBytesPerSecond) | %,d bytes/s |
                    | replicator invocations at once (one per partition, as Lambda) | %d |
                    | backfill | %d objects of %d MiB, %,d bytes |
                    | what the cap allows (bytes / cap) | %.1f s |
                    | backfill took (rule put to last replica listed at the site) | %.1f s (%+.1f %%) |
                    | bytes per second achieved | %,.0f (%.0f %% of the cap) |
                    | small objects put during the backfill, at the site | %d of %d; time to the site p50 %.2f s, max %.2f s |
                    """, cap, invocationsAtOnce, objects, objectMib, backfillBytes, expected, seconds, 100 * (seconds - expected) / expected,
                    backfillBytes / seconds, 100 * backfillBytes / seconds / cap, latencies.size(), smallPut.size(),
                    latencies.isEmpty() ? Double.NaN : latencies.get(latencies.size() / 2),
                    latencies.isEmpty() ? Double.NaN : latencies.getLast());
            System.out.println();
            System.out.println(table);
            if (!"-".equals(results)) {
                ResultsPage.write(Path.of(results), "bandwidth-cap", "tests/benchmarks/run bandwidth-cap --cap-bytes-per-second " + cap
                        + " --total-mib " + totalMib + " --object-mib " + objectMib + " --invocations-at-once " + invocationsAtOnce, table);
            }
            return 0;
        }
    }
}
