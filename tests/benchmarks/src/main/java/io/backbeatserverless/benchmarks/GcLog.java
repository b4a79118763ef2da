package io.backbeatserverless.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A function process's GC log ({@code -Xlog:gc}), read for the heap it used at its fullest. */
final class GcLog {

    /** {@code Pause Young (Allocation Failure) 68M->9M(247M) 2.345ms}: used before, after, and the heap's size then. */
    private static final Pattern COLLECTION = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");

    private GcLog() {
    }

    /** The most heap in use before a collection, the most left after one, and the largest the heap grew, or why unknown. */
    static String peak(Path log) {
        if (!Files.exists(log)) {
            return "no GC log";
        }
        long before = 0;
        long after = 0;
        long size = 0;
        int collections = 0;
        try {
            for (String line : Files.readAllLines(log)) {
                Matcher m = COLLECTION.matcher(line);
                if (m.find()) {
                    collections++;
                    before = Math.max(before, Long.parseLong(m.group(1)));
                    after = Math.max(after, Long.parseLong(m.group(2)));
                    size = Math.max(size, Long.parseLong(m.group(3)));
                }
            }
        } catch (IOException e) {
            return "GC log unreadable: " + e.getMessage();
        }
        return String.format("%d collections, at most %d MiB in use before one, %d MiB live after one, heap grown to %d MiB",
                collections, before, after, size);
    }
}
