package io.backbeatserverless.benchmarks;

import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.localstack.EmbeddedStack;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Each site's replication rate over a window (issue 31): the versions its replicator settled (COMPLETED or SKIPPED, as
 * the status processor recorded them: the ops API's totals) per second, sampled every second while the run goes on. A
 * site that keeps up with the writes settles about as many versions as were written; one that falls behind, fewer.
 */
final class SiteRates implements AutoCloseable {

    private final EmbeddedStack stack;
    private final List<String> sites;
    private final ConcurrentSkipListMap<Instant, Map<String, Long>> samples = new ConcurrentSkipListMap<>();
    private final Thread sampler;

    SiteRates(EmbeddedStack stack, List<String> sites) {
        this.stack = stack;
        this.sites = List.copyOf(sites);
        this.sampler = Thread.ofVirtual().name("site-rates").start(this::sampleEverySecond);
    }

    private void sampleEverySecond() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                sampleNow();
                Thread.sleep(1_000);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // The ops store may be down a while (the chaos run's DynamoDB outage): the next sample reads it again.
            }
        }
    }

    /** A sample taken now (also what a window's end is read from). */
    Instant sampleNow() {
        Map<String, Long> settled = new LinkedHashMap<>();
        for (String site : sites) {
            Counters totals = stack.ops().service().totals(site);
            settled.put(site, totals.completed() + totals.skipped());
        }
        Instant at = Instant.now();
        samples.put(at, settled);
        return at;
    }

    /** What each site settled in {@code [from, to]} and its rate: from the samples nearest the window's ends. */
    Map<String, Rate> between(Instant from, Instant to) {
        var first = samples.floorEntry(from) != null ? samples.floorEntry(from) : samples.ceilingEntry(from);
        var last = samples.floorEntry(to);
        Map<String, Rate> rates = new LinkedHashMap<>();
        double seconds = Math.max(0.001, Duration.between(first.getKey(), last.getKey()).toMillis() / 1000.0);
        for (String site : sites) {
            long settled = last.getValue().get(site) - first.getValue().get(site);
            rates.put(site, new Rate(settled, seconds));
        }
        return rates;
    }

    record Rate(long settled, double seconds) {
        double perSecond() {
            return settled / seconds;
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "%d versions in %.0f s = %.1f/s", settled, seconds, perSecond());
        }
    }

    @Override
    public void close() {
        sampler.interrupt();
    }
}
