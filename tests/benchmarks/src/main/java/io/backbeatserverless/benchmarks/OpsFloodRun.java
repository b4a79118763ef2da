package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.localstack.EmbeddedStack;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local ops port under abuse while replication runs (issue 32): three phases of equal length, quiet, flood, quiet, with
 * small objects put at a steady rate to a replicated bucket throughout. During the flood, {@code --big-bodies} clients send
 * 1 GiB chunked bodies to the ops port (each, when refused, at once again) and {@code --slow-connections} clients send
 * their headers a byte every few seconds (slowloris). Prints each phase's replication latency (put to listed at the site,
 * p50, p99, max), the heap's peak use, and what the flood got: answers by status, connections closed unanswered, bytes sent.
 */
@Command(name = "ops-flood", mixinStandardHelpOptions = true,
        description = "Replication's latency and the heap, quiet and while the ops port is flooded with huge and slow requests.")
final class OpsFloodRun implements Callable<Integer> {

    @Option(names = "--phase-seconds", defaultValue = "60", description = "length of each phase (default: ${DEFAULT-VALUE})")
    int phaseSeconds;
    @Option(names = "--objects-per-second", defaultValue = "10", description = "small objects put per second (default: ${DEFAULT-VALUE})")
    int objectsPerSecond;
    @Option(names = "--big-bodies", defaultValue = "100", description = "clients sending 1 GiB chunked bodies (default: ${DEFAULT-VALUE})")
    int bigBodies;
    @Option(names = "--big-body-bytes-per-second", defaultValue = "1000000", description = "how fast each of them sends (a client's"
            + " uplink; the flood's total is this times --big-bodies) (default: ${DEFAULT-VALUE})")
    long bigBodyBytesPerSecond;
    @Option(names = "--slow-connections", defaultValue = "200", description = "clients sending headers a byte every 5 s (default: ${DEFAULT-VALUE})")
    int slowConnections;
    @Option(names = "--results", defaultValue = "-", description = "page the table is written to (docs/benchmarks.md); '-' for none (default: ${DEFAULT-VALUE})")
    String results;

    private static final String SITE = "aws-location";
    private static final long ONE_GIB = 1L << 30;

    private final Map<Integer, AtomicLong> answers = new ConcurrentHashMap<>();
    private final AtomicLong unanswered = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong slowClosed = new AtomicLong();

    @Override
    public Integer call() throws Exception {
        BackbeatConfig config = EmbeddedStack.onFreePorts(BackbeatConfig.load(Path.of("localstack/backbeat.json")));
        SiteConfig site = config.requireSite(SITE);
        EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
        try (EmbeddedStack stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), "1g", "512m", Set.of(), null));
             S3Client source = AwsClients.s3(config.source().endpoint(), 8);
             S3Client destination = AwsClients.s3(site.endpoint(), 4)) {
            String bucket = "flood-" + Long.toHexString(System.currentTimeMillis());
            source.createBucket(r -> r.bucket(bucket));
            source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
            source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                    .role("arn:aws:iam::root:role/flood").rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                            .destination(d -> d.bucket("arn:aws:s3:::" + site.bucket()).storageClass(SITE))).build()));
            String prefix = site.bucketMatch() ? "" : bucket + "/";
            int port = config.ops().port();
            // Warm-up: the first versions pay for the JIT and the rule's first read.
            phase("warm-up", source, destination, bucket, site.bucket(), prefix, Math.min(15, phaseSeconds), null);
            List<String> rows = new ArrayList<>();
            rows.add(phase("quiet", source, destination, bucket, site.bucket(), prefix, phaseSeconds, null));
            rows.add(phase("flooded", source, destination, bucket, site.bucket(), prefix, phaseSeconds, port));
            rows.add(phase("quiet again", source, destination, bucket, site.bucket(), prefix, phaseSeconds, null));
            String table = String.format(java.util.Locale.ROOT, """
                    | phase | versions | replication p50 | p99 | max | heap live after a collection, peak |
                    |---|---|---|---|---|---|
                    %s
                    | | | | | | |
                    | flood | %d clients sending 1 GiB chunked bodies at %,d bytes/s each, %d slow-header clients | | | | |
                    | ops port's answers during the flood | %s; closed unanswered: %,d; slow connections closed by the server: %,d | | | | |
                    | bytes the flood sent | %,d | | | | |
                    """, String.join("\n", rows), bigBodies, bigBodyBytesPerSecond, slowConnections, answers, unanswered.get(), slowClosed.get(), bytesSent.get());
            System.out.println();
            System.out.println(table);
            if (!"-".equals(results)) {
                ResultsPage.write(Path.of(results), "ops-flood", "tests/benchmarks/run ops-flood --phase-seconds " + phaseSeconds
                        + " --objects-per-second " + objectsPerSecond + " --big-bodies " + bigBodies + " --big-body-bytes-per-second "
                        + bigBodyBytesPerSecond + " --slow-connections " + slowConnections, table);
            }
            return 0;
        }
    }

    /** One phase: objects put at the rate for its length (with the flood on the ops port when {@code floodPort} is given). */
    private String phase(String name, S3Client source, S3Client destination, String bucket, String siteBucket, String prefix, int seconds,
                         Integer floodPort)
            throws Exception {
        AtomicBoolean flooding = new AtomicBoolean(floodPort != null);
        List<Thread> flood = new ArrayList<>();
        if (floodPort != null) {
            for (int i = 0; i < bigBodies; i++) {
                flood.add(Thread.ofVirtual().start(() -> bigBody(floodPort, flooding)));
            }
            for (int i = 0; i < slowConnections; i++) {
                flood.add(Thread.ofVirtual().start(() -> slowHeaders(floodPort, flooding)));
            }
        }
        AtomicLong heapPeak = new AtomicLong();
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = Thread.ofPlatform().start(() -> {
            while (sampling.get()) {
                heapPeak.accumulateAndGet(liveHeap(), Math::max);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        Map<String, Long> put = new ConcurrentHashMap<>();
        Map<String, Long> arrived = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        long end = start + Duration.ofSeconds(seconds).toNanos();
        Thread writer = Thread.ofPlatform().start(() -> {
            long interval = 1_000_000_000L / objectsPerSecond;
            for (int n = 0; System.nanoTime() < end; n++) {
                String key = name.replace(' ', '-') + "/" + String.format("%06d", n);
                long at = System.nanoTime();
                source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString("flood " + key));
                put.put(key, at);
                long next = start + (n + 1) * interval;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
            }
        });
        String phasePrefix = prefix + name.replace(' ', '-') + "/";
        while (writer.isAlive() || arrived.size() < put.size()) {
            long now = System.nanoTime();
            for (S3Object object : destination.listObjectsV2Paginator(r -> r.bucket(siteBucket).prefix(phasePrefix)).contents()) {
                arrived.putIfAbsent(object.key().substring(prefix.length()), now);
            }
            if (!writer.isAlive() && now - end > Duration.ofMinutes(5).toNanos()) {
                break;
            }
            Thread.sleep(100);
            if (!writer.isAlive() && flooding.get()) {
                flooding.set(false);
            }
        }
        flooding.set(false);
        for (Thread thread : flood) {
            thread.join(Duration.ofSeconds(30));
        }
        sampling.set(false);
        sampler.join();
        List<Double> latencies = new ArrayList<>();
        put.forEach((key, at) -> {
            Long when = arrived.get(key);
            if (when != null) {
                latencies.add((when - at) / 1e9);
            }
        });
        String row = String.format(java.util.Locale.ROOT, "| %s | %d of %d at the site | %.2f s | %.2f s | %.2f s | %d MiB |", name, latencies.size(),
                put.size(), Stats.percentile(latencies, 50), Stats.percentile(latencies, 99), Stats.max(latencies), heapPeak.get() >> 20);
        System.out.println(row);
        return row;
    }

    /** The heap in use after the last collection, summed over its pools: what is live, garbage left out. */
    private static long liveHeap() {
        long used = 0;
        for (var pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getCollectionUsage() != null) {
                used += pool.getCollectionUsage().getUsed();
            }
        }
        return used;
    }

    /** A client sending a 1 GiB chunked body to the ops port, again each time it is answered or cut off. */
    private void bigBody(int port, AtomicBoolean flooding) {
        byte[] chunk = new byte[64 * 1024];
        byte[] chunkHeader = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        while (flooding.get()) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                out.write(("POST /_/crr/failed HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                long started = System.nanoTime();
                for (long sent = 0; sent < ONE_GIB && flooding.get(); sent += chunk.length) {
                    out.write(chunkHeader);
                    out.write(chunk);
                    out.write('\r');
                    out.write('\n');
                    bytesSent.addAndGet(chunk.length);
                    long due = started + (sent + chunk.length) * 1_000_000_000L / bigBodyBytesPerSecond;
                    java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                count(socket.getInputStream());
            } catch (IOException e) {
                // Cut off while sending: the server refused the body and closed. A client tries again a second later.
                unanswered.incrementAndGet();
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000_000L);
            }
        }
    }

    private void count(InputStream in) throws IOException {
        byte[] line = in.readNBytes(12);
        String status = new String(line, StandardCharsets.US_ASCII);
        if (status.startsWith("HTTP/1.1 ")) {
            answers.computeIfAbsent(Integer.parseInt(status.substring(9, 12)), k -> new AtomicLong()).incrementAndGet();
        } else {
            unanswered.incrementAndGet();
        }
    }

    /** A client sending its request line and headers a byte every 5 s (slowloris), again when the server closes it. */
    private void slowHeaders(int port, AtomicBoolean flooding) {
        byte[] request = "POST /_/crr/failed HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        while (flooding.get()) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                OutputStream out = socket.getOutputStream();
                for (int i = 0; i < request.length && flooding.get(); i++) {
                    out.write(request[i]);
                    out.flush();
                    Thread.sleep(5_000);
                }
            } catch (IOException e) {
                slowClosed.incrementAndGet();
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
