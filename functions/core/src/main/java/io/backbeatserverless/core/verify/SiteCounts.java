package io.backbeatserverless.core.verify;

/**
 * What verify found at one site: versions (and delete markers) expected there, replicated and identical,
 * still in flight (younger than the stuck threshold), and one count per kind of finding.
 */
public record SiteCounts(long expected, long identical, long inFlight, long missing, long divergent, long stuck, long failed,
                         long skipped, long extra, long repaired) {

    public static final SiteCounts ZERO = new SiteCounts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public SiteCounts plus(SiteCounts o) {
        return new SiteCounts(expected + o.expected, identical + o.identical, inFlight + o.inFlight, missing + o.missing,
                divergent + o.divergent, stuck + o.stuck, failed + o.failed, skipped + o.skipped, extra + o.extra,
                repaired + o.repaired);
    }

    public SiteCounts plusFinding(Finding.Kind kind) {
        return switch (kind) {
            case MISSING -> new SiteCounts(expected, identical, inFlight, missing + 1, divergent, stuck, failed, skipped, extra, repaired);
            case DIVERGENT -> new SiteCounts(expected, identical, inFlight, missing, divergent + 1, stuck, failed, skipped, extra, repaired);
            case STUCK -> new SiteCounts(expected, identical, inFlight, missing, divergent, stuck + 1, failed, skipped, extra, repaired);
            case FAILED -> new SiteCounts(expected, identical, inFlight, missing, divergent, stuck, failed + 1, skipped, extra, repaired);
            case SKIPPED -> new SiteCounts(expected, identical, inFlight, missing, divergent, stuck, failed, skipped + 1, extra, repaired);
            case EXTRA -> new SiteCounts(expected, identical, inFlight, missing, divergent, stuck, failed, skipped, extra + 1, repaired);
        };
    }

    /** Nothing lost: no version missing, divergent or stuck (failed and skipped ones are listed with their reasons). */
    public boolean nothingLost() {
        return missing == 0 && divergent == 0 && stuck == 0;
    }
}
