package io.backbeatserverless.core.ops;

import java.time.Instant;

/** Per-site counters kept per minute and in total, added atomically by the populator and the status processor. */
public interface MetricsStore {

    /** Adds {@code delta} to the site's counters of the minute of {@code at} and to its totals. */
    default void add(String site, Instant at, Counters delta) {
        add(site, at, delta, java.util.Map.of());
    }

    /**
     * Adds {@code delta} as {@link #add(String, Instant, Counters)} does, and records with the totals how far the
     * status topic has been counted for the site ({@code "<topic>-<partition>"} to the last offset counted), so
     * that a batch delivered again is not counted again.
     */
    void add(String site, Instant at, Counters delta, java.util.Map<String, Long> countedThrough);

    /** How far the status topic has been counted for the site: the last offset counted per partition. */
    java.util.Map<String, Long> countedThrough(String site);

    /** The sum of the site's minutes in {@code [from, to)}. */
    Counters sum(String site, Instant from, Instant to);

    /** The site's counters minute by minute in {@code [from, to)}, minutes without activity left out. */
    java.util.SortedMap<Instant, Counters> series(String site, Instant from, Instant to);

    /** Everything since the start. */
    Counters totals(String site);

    /** Counts nothing (benchmarks and tests of code that counts). */
    MetricsStore NONE = new MetricsStore() {
        @Override
        public void add(String site, Instant at, Counters delta, java.util.Map<String, Long> countedThrough) {
        }

        @Override
        public java.util.Map<String, Long> countedThrough(String site) {
            return java.util.Map.of();
        }

        @Override
        public Counters sum(String site, Instant from, Instant to) {
            return Counters.ZERO;
        }

        @Override
        public java.util.SortedMap<Instant, Counters> series(String site, Instant from, Instant to) {
            return new java.util.TreeMap<>();
        }

        @Override
        public Counters totals(String site) {
            return Counters.ZERO;
        }
    };
}
