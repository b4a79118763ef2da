package io.backbeatserverless.core.verify;

/**
 * What verify found at one site: versions (and delete markers) expected there, replicated and identical,
 * still in flight (younger than the stuck threshold), and one count per kind of finding.
 */
public record SiteCounts(long expected, long identical, long inFlight, long missing, long divergent, long stuck, long failed,
                         long skipped, long extra, long repaired, long outOfOrder) {

    public static final SiteCounts ZERO = new SiteCounts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** Counts without entries out of order (runs saved before they were counted read so too). */
    public SiteCounts(long expected, long identical, long inFlight, long missing, long divergent, long stuck, long failed,
                      long skipped, long extra, long repaired) {
        this(expected, identical, inFlight, missing, divergent, stuck, failed, skipped, extra, repaired, 0);
    }

    public SiteCounts plus(SiteCounts o) {
        return new SiteCounts(expected + o.expected, identical + o.identical, inFlight + o.inFlight, missing + o.missing,
                divergent + o.divergent, stuck + o.stuck, failed + o.failed, skipped + o.skipped, extra + o.extra,
                repaired + o.repaired, outOfOrder + o.outOfOrder);
    }

    public SiteCounts plusFinding(Finding.Kind kind) {
        return plus(switch (kind) {
            case MISSING -> new SiteCounts(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0);
            case DIVERGENT -> new SiteCounts(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0);
            case STUCK -> new SiteCounts(0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0);
            case FAILED -> new SiteCounts(0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0);
            case SKIPPED -> new SiteCounts(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0);
            case EXTRA -> new SiteCounts(0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
            case OUT_OF_ORDER -> new SiteCounts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
        });
    }

    /** Nothing lost: no version missing, divergent, out of order or stuck (failed and skipped ones are listed with their reasons). */
    public boolean nothingLost() {
        return missing == 0 && divergent == 0 && stuck == 0 && outOfOrder == 0;
    }
}
