package io.backbeatserverless.core.crash;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The moments where a crash is most likely to lose or double something, named, so that a test can make a function die
 * exactly there (issue 12: kills at chosen points, not only where a clock puts them). A function armed with the
 * environment variable {@value #VARIABLE} = {@code point} or {@code point:n} halts its JVM at once, as a SIGKILL would
 * (no shutdown hooks, nothing flushed), the n-th time (default the first) it reaches that point. Only the local stack's
 * function processes are ever started with it; unarmed, {@link #reached} costs one comparison.
 */
public final class CrashPoints {

    public static final String VARIABLE = "BACKBEAT_CRASH_AT";

    /** The points, each between two steps whose order the design relies on (docs/reliability.md). */
    public enum Point {
        /** Populator, listing feed: a page's new versions are recorded PENDING in the status table, not published yet. */
        QUEUED_RECORDED("queued-recorded"),
        /** Populator: a batch's entries are in Kafka, the feed's checkpoint is not saved yet. */
        ENTRIES_PUBLISHED("entries-published"),
        /** Replicator: the batch's replicas are written at the site, their outcomes are not published yet. */
        REPLICAS_WRITTEN("replicas-written"),
        /** Replicator: one part of a multipart copy is uploaded, the upload is not complete. */
        PART_UPLOADED("part-uploaded"),
        /** Status processor: a FAILED status is written, its failed entry is not yet. */
        STATUS_WRITTEN("status-written");

        private final String spelling;

        Point(String spelling) {
            this.spelling = spelling;
        }

        public String spelling() {
            return spelling;
        }

        static Point of(String spelling) {
            for (Point p : values()) {
                if (p.spelling.equals(spelling.trim().toLowerCase(Locale.ROOT))) {
                    return p;
                }
            }
            throw new IllegalArgumentException(VARIABLE + ": no crash point '" + spelling + "'; the points: "
                    + java.util.Arrays.stream(values()).map(Point::spelling).toList());
        }
    }

    /** What an armed process will do: die at {@code point} the {@code nth} time it is reached. */
    public record Arming(Point point, int nth) {
        /** Parses {@code point} or {@code point:n}; null or blank: not armed. */
        public static Arming parse(String spec) {
            if (spec == null || spec.isBlank()) {
                return null;
            }
            String[] parts = spec.split(":", 2);
            int nth = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : 1;
            if (nth < 1) {
                throw new IllegalArgumentException(VARIABLE + ": '" + spec + "': the count must be at least 1");
            }
            return new Arming(Point.of(parts[0]), nth);
        }
    }

    private static final Arming ARMED = Arming.parse(System.getenv(VARIABLE));
    private static final AtomicInteger REACHED = new AtomicInteger();

    private CrashPoints() {
    }

    /** Marks that {@code point} is reached: halts the JVM if this process is armed for it and this is the n-th time. */
    public static void reached(Point point) {
        if (ARMED == null || ARMED.point() != point) {
            return;
        }
        if (REACHED.incrementAndGet() == ARMED.nth()) {
            System.out.println("CRASH at " + point.spelling() + " (" + VARIABLE + ")");
            System.out.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
