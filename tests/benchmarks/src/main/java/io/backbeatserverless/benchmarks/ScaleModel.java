package io.backbeatserverless.benchmarks;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A discrete-event model of one site's replication under load, as Lambda runs it on an MSK trigger: each partition
 * has one poller that invokes the replicator with at most {@code batchSize} records, gathered for at most
 * {@code batchWindowMs} after the first, and starts the next batch only when that invocation returned (one invocation
 * per partition at a time); in an invocation the versions of one key are copied one after the other and up to
 * {@code keyConcurrency} keys at once; a copy is a site HEAD, a source GET and a site PUT, each request's latency
 * drawn from a log-normal distribution given by its median and 99th percentile; the outcomes are published when the
 * batch is done. Partitions are independent (a key always goes to the same one), so each is simulated on its own
 * with its own random stream: the model is exact for these rules and deterministic for a seed.
 *
 * <p>What it leaves out, on purpose: the status processor (not on the put-to-replica path; its cost is in the cost
 * model), Kafka's own latency (a few ms against the feed delay), throttling by S3 or the account's Lambda
 * concurrency (reported instead: the concurrency the plan needs), retries (a share of failed requests only adds its
 * backoff to those objects).
 */
final class ScaleModel {

    /** A request's latency, log-normal from its median and 99th percentile (ms); scaled for a slow site. */
    record Latency(double medianMs, double p99Ms) {
        double draw(SplittableRandom random, double factor) {
            double sigma = Math.log(p99Ms / medianMs) / 2.326; // z of the 99th percentile
            return factor * medianMs * Math.exp(sigma * gaussian(random));
        }

        private static double gaussian(SplittableRandom random) {
            double u = 1 - random.nextDouble();
            double v = random.nextDouble();
            return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
        }
    }

    /**
     * @param ratePerSecond     writes per second at the source
     * @param writeSeconds      how long the writes go on
     * @param partitions        partitions of the replication topic (pollers of the site's trigger)
     * @param hotKeyShare       share of the writes that go to one key (0: none)
     * @param siteLatencyFactor how many times slower the site's requests are (1: as given)
     * @param pauseAtSeconds    when the site is paused (its trigger disabled); negative: never
     * @param pauseSeconds      how long it stays paused
     * @param feedDelayMs       from the source write to the entry in Kafka (S3 event, queue, populator)
     * @param invocationOverheadMs per invocation: the trigger's call, publishing the outcomes
     * @param cpuMsPerObject    the function's own work per object (decoding, signing, hashing), measured
     */
    record Plan(double ratePerSecond, double writeSeconds, int partitions, int batchSize, int batchWindowMs, int keyConcurrency,
                double hotKeyShare, double siteLatencyFactor, double pauseAtSeconds, double pauseSeconds,
                double feedDelayMs, double invocationOverheadMs, double cpuMsPerObject,
                Latency head, Latency get, Latency put, int memoryMiB, long seed) {

    }

    /** What a run gave: latencies from the source write to the replica written, and the work it took. */
    record Result(long objects, double p50Ms, double p99Ms, double maxMs, long maxBacklog, double drainedAfterWritesSeconds,
                  long invocations, double meanBatch, double meanInvocationMs, double gbSecondsPerMillion, int concurrency,
                  double catchUpSeconds) {
    }

    private ScaleModel() {
    }

    static Result run(Plan plan) {
        LatencyHistogram latencies = new LatencyHistogram();
        double writesEnd = plan.writeSeconds() * 1000;
        long objects = 0;
        long invocations = 0;
        double busyMs = 0;
        double lastDone = 0;
        double resumedAt = plan.pauseAtSeconds() < 0 ? -1 : (plan.pauseAtSeconds() + plan.pauseSeconds()) * 1000;
        double caughtUp = -1;
        // Backlog over time, summed over partitions: entries in Kafka not yet replicated, sampled every second.
        int seconds = (int) Math.ceil(plan.writeSeconds() + plan.pauseSeconds()) + 3_600;
        long[] publishedBy = new long[seconds + 2];
        long[] doneBy = new long[seconds + 2];
        double partitionRate = plan.ratePerSecond() * (1 - plan.hotKeyShare()) / plan.partitions();
        for (int p = 0; p < plan.partitions(); p++) {
            SplittableRandom random = new SplittableRandom(plan.seed() * 7919 + p);
            boolean hot = plan.hotKeyShare() > 0 && p == 0;
            double rate = partitionRate + (hot ? plan.ratePerSecond() * plan.hotKeyShare() : 0);
            Stream stream = new Stream(random, rate / 1000, hot ? plan.ratePerSecond() * plan.hotKeyShare() / rate : 0,
                    writesEnd, plan.feedDelayMs());
            double free = 0; // when the poller can fetch the next batch
            ArrayDeque<Entry> queued = new ArrayDeque<>();
            while (true) {
                stream.fill(queued, plan.batchSize());
                if (queued.isEmpty()) {
                    break;
                }
                double start = Math.max(free, queued.peekFirst().published);
                // A paused site: nothing is invoked until it is resumed.
                if (resumedAt >= 0 && start >= plan.pauseAtSeconds() * 1000 && start < resumedAt) {
                    start = resumedAt;
                }
                // Gather: the batch is invoked once it is full, or when the window since the poller met its first record ends.
                double windowEnd = start + plan.batchWindowMs();
                Entry last = queued.size() >= plan.batchSize() ? nth(queued, plan.batchSize() - 1) : null;
                double invoked = last != null && last.published <= windowEnd ? Math.max(start, last.published) : windowEnd;
                List<Entry> batch = new ArrayList<>(plan.batchSize());
                for (Entry e : queued) {
                    if (batch.size() == plan.batchSize() || e.published > invoked) {
                        break;
                    }
                    batch.add(e);
                }
                for (int i = 0; i < batch.size(); i++) {
                    queued.pollFirst();
                }
                double duration = copy(batch, invoked, plan, random, latencies);
                double end = invoked + duration + plan.invocationOverheadMs();
                free = end;
                invocations++;
                busyMs += end - invoked;
                objects += batch.size();
                lastDone = Math.max(lastDone, end);
                for (Entry e : batch) {
                    publishedBy[Math.min(seconds, (int) (e.published / 1000))]++;
                    doneBy[Math.min(seconds, (int) (e.replicated / 1000))]++;
                }
            }
        }
        long backlog = 0;
        long maxBacklog = 0;
        for (int s = 0; s <= seconds; s++) {
            backlog += publishedBy[s] - doneBy[s];
            maxBacklog = Math.max(maxBacklog, backlog);
            if (resumedAt >= 0 && caughtUp < 0 && s * 1000.0 > resumedAt && backlog <= plan.ratePerSecond()) {
                caughtUp = s - resumedAt / 1000; // back to at most a second of writes in flight
            }
        }
        double gbSeconds = busyMs / 1000 * plan.memoryMiB() / 1024.0;
        return new Result(objects, latencies.percentile(0.5), latencies.percentile(0.99), latencies.max(), maxBacklog,
                Math.max(0, (lastDone - writesEnd) / 1000), invocations, (double) objects / invocations, busyMs / invocations,
                gbSeconds / objects * 1_000_000, plan.partitions(), caughtUp);
    }

    /**
     * One invocation: each key's versions in order on one worker, {@code keyConcurrency} workers, keys taken in the
     * order they come (as the replicator submits them); returns how long it took and sets each entry's replica time.
     */
    private static double copy(List<Entry> batch, double invoked, Plan plan, SplittableRandom random, LatencyHistogram latencies) {
        Map<Long, List<Entry>> byKey = new LinkedHashMap<>();
        for (Entry e : batch) {
            byKey.computeIfAbsent(e.key, k -> new ArrayList<>()).add(e);
        }
        double[] workers = new double[Math.min(plan.keyConcurrency(), byKey.size())];
        for (List<Entry> versions : byKey.values()) {
            int w = 0;
            for (int i = 1; i < workers.length; i++) {
                if (workers[i] < workers[w]) {
                    w = i;
                }
            }
            double t = workers[w];
            for (Entry e : versions) {
                t += plan.head().draw(random, plan.siteLatencyFactor()) + plan.get().draw(random, 1)
                        + plan.put().draw(random, plan.siteLatencyFactor()) + plan.cpuMsPerObject();
                e.replicated = invoked + t;
                latencies.add(e.replicated - e.written);
            }
            workers[w] = t;
        }
        return Arrays.stream(workers).max().orElse(0);
    }

    private static Entry nth(ArrayDeque<Entry> queued, int index) {
        int i = 0;
        for (Entry e : queued) {
            if (i++ == index) {
                return e;
            }
        }
        return null;
    }

    /** A version: when it was written at the source, when its entry was in Kafka, its key, when its replica was written. */
    private static final class Entry {
        final double written;
        final double published;
        final long key;
        double replicated;

        Entry(double written, double published, long key) {
            this.written = written;
            this.published = published;
            this.key = key;
        }
    }

    /** One partition's entries: Poisson writes, the hot key's share among them, published in order after the feed delay. */
    private static final class Stream {
        private final SplittableRandom random;
        private final double perMs;
        private final double hotShare;
        private final double end;
        private final double feedDelayMs;
        private double t;
        private double lastPublished;

        Stream(SplittableRandom random, double perMs, double hotShare, double end, double feedDelayMs) {
            this.random = random;
            this.perMs = perMs;
            this.hotShare = hotShare;
            this.end = end;
            this.feedDelayMs = feedDelayMs;
        }

        void fill(ArrayDeque<Entry> queued, int atLeast) {
            while (queued.size() < atLeast) {
                t += -Math.log(1 - random.nextDouble()) / perMs;
                if (t > end) {
                    return;
                }
                // The feed keeps the order of the writes: an entry is never published before the one written before it.
                lastPublished = Math.max(lastPublished, t + feedDelayMs * (0.5 + random.nextDouble()));
                long key = random.nextDouble() < hotShare ? 0 : 1 + random.nextLong(Long.MAX_VALUE - 1);
                queued.addLast(new Entry(t, lastPublished, key));
            }
        }
    }

    /** Latencies at 1 ms resolution (up to 3 hours; longer ones count in the last bucket, and in the max). */
    private static final class LatencyHistogram {
        private final long[] counts = new long[3 * 3_600_000];
        private long total;
        private double max;

        void add(double ms) {
            counts[(int) Math.min(counts.length - 1, Math.max(0, ms))]++;
            total++;
            max = Math.max(max, ms);
        }

        double percentile(double q) {
            long rank = (long) Math.ceil(q * total);
            long seen = 0;
            for (int i = 0; i < counts.length; i++) {
                seen += counts[i];
                if (seen >= rank) {
                    return i;
                }
            }
            return max;
        }

        double max() {
            return max;
        }
    }
}
