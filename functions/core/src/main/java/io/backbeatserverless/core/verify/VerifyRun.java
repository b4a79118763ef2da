package io.backbeatserverless.core.verify;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One verify run, as saved after every step: what was asked, where it stands (phase, bucket and last key
 * done, so it resumes there after a restart), and what it found so far, per site. Findings themselves are
 * stored apart, a page at a time.
 *
 * @param buckets        the buckets the run covers, fixed when it starts
 * @param bucketIndex    the bucket being walked
 * @param afterKey       the last key done in it (null: none yet)
 * @param totalVersions  versions and delete markers in those buckets (counted first, for progress; -1 until counted)
 * @param scanned        versions and delete markers walked so far
 * @param keys           keys walked so far; while COUNTING, the versions counted so far in the bucket being counted
 *                       (the inventory threshold is per bucket)
 * @param problems       what kept a bucket or a site from being checked (an invalid configuration, a site with no bucket)
 * @param byInventory    the buckets checked by their inventory reports, not their listings (issue 29: counted past the
 *                       configured size, with reports to read)
 * @param inventory      in such a bucket, where the walk of its reports stands (null: not started, or a listed bucket)
 */
public record VerifyRun(String id, VerifyRequest request, Phase phase, Instant createdAt, Instant updatedAt, Instant finishedAt,
                        List<String> buckets, int bucketIndex, String afterKey, long totalVersions, long scanned, long keys,
                        Map<String, SiteCounts> bySite, long findings, List<String> problems, String error,
                        List<String> byInventory, InventoryWalk inventory) {

    public enum Phase {
        /** Counting the versions to walk (for the progress bar). */
        COUNTING,
        VERIFYING,
        DONE,
        /** Stopped by an error it could not go past (the error says which). */
        FAILED,
        CANCELLED;

        public boolean finished() {
            return this == DONE || this == FAILED || this == CANCELLED;
        }
    }

    public VerifyRun {
        buckets = buckets == null ? List.of() : List.copyOf(buckets);
        bySite = bySite == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(bySite));
        problems = problems == null ? List.of() : List.copyOf(problems);
        byInventory = byInventory == null ? List.of() : List.copyOf(byInventory);
    }

    /**
     * A new run's id: its start time first, so ids sort by age, then random digits, drawn from the system's entropy at
     * the call (a UUID's): ThreadLocalRandom's seed is made once per JVM, so every environment SnapStart resumes from one
     * snapshot would draw the same digits (issue 33).
     */
    public static String newId(Instant now) {
        return java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(java.time.ZoneOffset.UTC).format(now)
                + "-" + java.util.UUID.randomUUID().toString().substring(0, 6);
    }

    public static VerifyRun started(String id, VerifyRequest request, Instant now) {
        return new VerifyRun(id, request, Phase.COUNTING, now, now, null, null, 0, null, -1, 0, 0, Map.of(), 0, List.of(), null, List.of(), null);
    }

    /** Every site's counts added up. */
    public SiteCounts total() {
        return bySite.values().stream().reduce(SiteCounts.ZERO, SiteCounts::plus);
    }

    /** Finished, with no version missing, divergent or stuck at any site, and every bucket checked. */
    public boolean clean() {
        return phase == Phase.DONE && problems.isEmpty() && total().nothingLost();
    }

    public String bucket() {
        return bucketIndex < buckets.size() ? buckets.get(bucketIndex) : null;
    }

    public VerifyRun with(Phase newPhase, Instant now) {
        return new VerifyRun(id, request, newPhase, createdAt, now, newPhase.finished() ? now : finishedAt, buckets, bucketIndex,
                afterKey, totalVersions, scanned, keys, bySite, findings, problems, error, byInventory, inventory);
    }

    public VerifyRun failed(String why, Instant now) {
        return new VerifyRun(id, request, Phase.FAILED, createdAt, now, now, buckets, bucketIndex, afterKey, totalVersions, scanned,
                keys, bySite, findings, problems, why, byInventory, inventory);
    }
}
