package io.backbeatserverless.core.verify;

import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.versions.ListedVersion;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Verify's judgement of one key at one site: the source's history of the key (which entries belong at the
 * site, with their recorded status) against the site's history of the replica key.
 * <ul>
 *   <li>A version is matched by the source version id its replica carries and compared
 *       ({@link ReplicaComparison}); the most recent copy counts.</li>
 *   <li>A delete marker is matched by id where the site keeps source ids (CloudServer), else by place: a
 *       delete marker at the site after the replicas of the source's older versions and before those of its
 *       newer ones, each source marker its own (or, at a site that kept one for consecutive ones, that one).</li>
 *   <li>An entry with no match is in flight while younger than the stuck threshold, else explained by its
 *       status: FAILED and SKIPPED with their reasons, PENDING too long is stuck, anything else missing.</li>
 *   <li>The site's current entry must be the source's: the replica of its newest version, or a delete marker
 *       where the source's newest entry is one.</li>
 *   <li>The site's history keeps the source's order: an entry above one the source wrote after it is out of order
 *       (the newest on top is not enough: a reader of versions sees the whole history), every copy counted; a version
 *       copied again leaves its earlier copies extra.</li>
 *   <li>Replicas of no source version of the key, and delete markers matched to none, are extra.</li>
 * </ul>
 * Pure: the caller lists and reads both sides.
 */
public final class KeyAudit {

    private KeyAudit() {
    }

    /** A source entry that belongs at the site: its listing, its details (null for a delete marker) and its recorded status at the site. */
    public record SourceEntry(ListedVersion listed, VersionDetails details, SiteOutcome status) {
    }

    /**
     * An entry of the replica key at the site.
     *
     * @param replicaOf the source version id it replicates, when it says so (null: a delete marker at an S3 site, or not a replica)
     * @param details   null for a delete marker
     */
    public record SiteEntry(ListedVersion listed, String replicaOf, VersionDetails details) {
    }

    /**
     * @param compareEtags false for sites whose ETags are not content MD5s (SSE-KMS)
     * @param encryption   the site's rule for its replicas' encryption; null: not compared
     */
    public record Settings(Duration stuckAfter, boolean compareEtags, io.backbeatserverless.core.metadata.ReplicaEncryption encryption) {
        public Settings(Duration stuckAfter, boolean compareEtags) {
            this(stuckAfter, compareEtags, null);
        }
    }

    /**
     * A source version to queue again; {@code forceCopy}: copy it even where its replica seems present (it differs);
     * {@code tagsOnly}: its replica differs by its tags or its Object Lock alone, updated in place (a change of metadata alone).
     */
    public record Repair(String versionId, boolean deleteMarker, boolean forceCopy, boolean tagsOnly) {
        public Repair(String versionId, boolean deleteMarker, boolean forceCopy) {
            this(versionId, deleteMarker, forceCopy, false);
        }
    }

    /**
     * @param restsOnStatus an expected entry was not at the site, so its verdict is its recorded status's (or its age's):
     *                      audited without the statuses, such a key is undecided until they are read (verify reads them
     *                      only for these keys)
     */
    public record Result(SiteCounts counts, List<Finding> findings, List<Repair> repairs, boolean restsOnStatus) {
    }

    /**
     * @param sourceHistory every entry of the key at the source, oldest first (the ones that do not belong at the site too)
     * @param expected      the entries that belong at the site, oldest first
     * @param siteHistory   the replica key's entries at the site, oldest first
     */
    public static Result audit(String site, String bucket, String key, List<ListedVersion> sourceHistory, List<SourceEntry> expected,
                               List<SiteEntry> siteHistory, Settings settings, Instant now) {
        Map<String, Integer> sourceOrder = new HashMap<>();
        for (int i = 0; i < sourceHistory.size(); i++) {
            sourceOrder.put(sourceHistory.get(i).versionId(), i);
        }
        Map<String, List<Integer>> copies = new HashMap<>();
        for (int p = 0; p < siteHistory.size(); p++) {
            String of = siteHistory.get(p).replicaOf();
            if (of != null) {
                copies.computeIfAbsent(of, k -> new ArrayList<>()).add(p);
            }
        }
        Set<Integer> usedMarkers = new HashSet<>();
        SiteCounts counts = SiteCounts.ZERO;
        List<Finding> findings = new ArrayList<>();
        List<Repair> repairs = new ArrayList<>();
        Instant youngerThan = now.minus(settings.stuckAfter());
        boolean newestMatched = false;
        boolean restsOnStatus = false;
        // Where at the site each expected entry found identical is (by its index in expected; a version's every copy): the
        // order check's input.
        Map<Integer, List<Integer>> identicalAt = new java.util.TreeMap<>();
        for (int e = 0; e < expected.size(); e++) {
            SourceEntry entry = expected.get(e);
            ListedVersion v = entry.listed();
            counts = counts.plus(new SiteCounts(1, 0, 0, 0, 0, 0, 0, 0, 0, 0));
            boolean newest = e == expected.size() - 1;
            if (v.deleteMarker()) {
                Integer marker = matchDeleteMarker(v, sourceOrder, copies, siteHistory, usedMarkers);
                if (marker != null) {
                    usedMarkers.add(marker);
                    identicalAt.put(e, List.of(marker));
                    counts = counts.plus(new SiteCounts(0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
                    newestMatched = newest;
                    continue;
                }
            } else {
                List<Integer> positions = copies.get(v.versionId());
                if (positions != null) {
                    SiteEntry replica = siteHistory.get(positions.getLast());
                    List<String> differences = replica.details() == null ? List.of("the site holds a delete marker in its place")
                            : ReplicaComparison.differences(entry.details(), replica.details(), settings.compareEtags(), settings.encryption());
                    if (differences.isEmpty()) {
                        identicalAt.put(e, positions);
                        counts = counts.plus(new SiteCounts(0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
                        newestMatched = newest;
                    } else {
                        counts = counts.plusFinding(Finding.Kind.DIVERGENT);
                        findings.add(new Finding(Finding.Kind.DIVERGENT, site, bucket, key, v.versionId(), false, String.join("; ", differences)));
                        // Tags or lock alone (a change the listing feed cannot see): updated in place, not copied again.
                        boolean tagsOnly = replica.details() != null
                                && ReplicaComparison.onlyMetadataDiffers(entry.details(), replica.details(), settings.compareEtags(), settings.encryption());
                        repairs.add(new Repair(v.versionId(), false, !tagsOnly, tagsOnly));
                    }
                    continue;
                }
            }
            // Not at the site: the recorded status says why, or time does.
            restsOnStatus = true;
            Unmatched verdict = unmatched(entry, youngerThan, now, settings.stuckAfter());
            if (verdict == null) {
                counts = counts.plus(new SiteCounts(0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
                continue;
            }
            counts = counts.plusFinding(verdict.kind());
            findings.add(new Finding(verdict.kind(), site, bucket, key, v.versionId(), v.deleteMarker(), verdict.detail()));
            if (verdict.kind() == Finding.Kind.MISSING || verdict.kind() == Finding.Kind.STUCK) {
                repairs.add(new Repair(v.versionId(), v.deleteMarker(), false));
            }
        }
        if (newestMatched && !siteHistory.isEmpty()) {
            SourceEntry newest = expected.getLast();
            SiteEntry current = siteHistory.getLast();
            String wrong = currentMismatch(newest.listed(), current);
            if (wrong != null) {
                identicalAt.remove(expected.size() - 1); // reported here, and repaired: not again as out of order
                counts = counts.plus(new SiteCounts(0, -1, 0, 0, 0, 0, 0, 0, 0, 0)).plusFinding(Finding.Kind.DIVERGENT);
                findings.add(new Finding(Finding.Kind.DIVERGENT, site, bucket, key, newest.listed().versionId(),
                        newest.listed().deleteMarker(), wrong));
                repairs.add(new Repair(newest.listed().versionId(), newest.listed().deleteMarker(), !newest.listed().deleteMarker()));
            }
        }
        // Read up the site's history, each entry must be of the source's entry at or after the ones below it: one of an
        // earlier source entry than one below it is out of order (reported once, with the entry it is below). Every copy
        // counts, so a history put right by copying an entry again on top still shows the misplaced copy. Nothing repairs
        // it in place (an S3 site cannot insert a version).
        java.util.TreeMap<Integer, List<Integer>> entriesAt = new java.util.TreeMap<>();
        identicalAt.forEach((e, positions) -> positions.forEach(p -> entriesAt.computeIfAbsent(p, k -> new ArrayList<>()).add(e)));
        int highest = -1;
        int highestAt = -1;
        Set<Integer> misplacedEntries = new HashSet<>();
        for (Map.Entry<Integer, List<Integer>> at : entriesAt.entrySet()) {
            for (int e : at.getValue()) {
                if (e < highest && misplacedEntries.add(e)) {
                    ListedVersion misplaced = expected.get(e).listed();
                    ListedVersion before = expected.get(highest).listed();
                    counts = counts.plus(new SiteCounts(0, -1, 0, 0, 0, 0, 0, 0, 0, 0)).plusFinding(Finding.Kind.OUT_OF_ORDER);
                    findings.add(new Finding(Finding.Kind.OUT_OF_ORDER, site, bucket, key, misplaced.versionId(), misplaced.deleteMarker(),
                            (misplaced.deleteMarker() ? "delete marker" : "version") + " above " + (before.deleteMarker() ? "delete marker " : "version ")
                                    + before.versionId() + " at the site, which the source wrote after it (site positions "
                                    + at.getKey() + " and " + highestAt + ", oldest 0)"));
                }
            }
            int newestHere = java.util.Collections.max(at.getValue());
            if (newestHere > highest) {
                highest = newestHere;
                highestAt = at.getKey();
            }
        }
        for (int p = 0; p < siteHistory.size(); p++) {
            SiteEntry entry = siteHistory.get(p);
            String extra = null;
            if (entry.replicaOf() != null && !sourceOrder.containsKey(entry.replicaOf())) {
                extra = (entry.listed().deleteMarker() ? "delete marker" : "replica") + " of source version " + entry.replicaOf()
                        + ", which the source no longer has";
            } else if (entry.listed().deleteMarker() && entry.replicaOf() == null && !usedMarkers.contains(p)) {
                extra = "delete marker with no delete marker at the source in its place";
            } else if (entry.replicaOf() != null && copies.get(entry.replicaOf()).getLast() != p) {
                extra = "an earlier copy of source version " + entry.replicaOf() + ", which the site has again above it";
            }
            if (extra != null) {
                counts = counts.plusFinding(Finding.Kind.EXTRA);
                findings.add(new Finding(Finding.Kind.EXTRA, site, bucket, key, entry.listed().versionId(), entry.listed().deleteMarker(),
                        extra + " (version " + entry.listed().versionId() + " at the site)"));
            }
        }
        return new Result(counts, findings, repairs, restsOnStatus);
    }

    private record Unmatched(Finding.Kind kind, String detail) {
    }

    /** Null while the entry is in flight. */
    private static Unmatched unmatched(SourceEntry entry, Instant youngerThan, Instant now, Duration stuckAfter) {
        SiteOutcome status = entry.status();
        boolean young = entry.listed().lastModified() != null && entry.listed().lastModified().isAfter(youngerThan);
        String what = entry.listed().deleteMarker() ? "delete marker" : "version";
        if (status == null) {
            // A record expires once every site has COMPLETED the version (statusRetentionDays): a replica lost since reads so too.
            return young ? null : new Unmatched(Finding.Kind.MISSING, "no " + what + " at the site and no replication status: never "
                    + "queued, or its record expired after every site had completed it");
        }
        return switch (status.status()) {
            case FAILED -> new Unmatched(Finding.Kind.FAILED, status.reason() == null ? "failed" : status.reason());
            case SKIPPED -> new Unmatched(Finding.Kind.SKIPPED, status.reason() == null ? "skipped" : status.reason());
            case PENDING, PROCESSING -> {
                Instant since = latest(entry.listed().lastModified(), io.backbeatserverless.core.metadata.Timestamps.parseOrNull(status.updatedAt()));
                if (since != null && since.isAfter(youngerThan)) {
                    yield null;
                }
                yield new Unmatched(Finding.Kind.STUCK, status.status() + " since " + since + " (more than "
                        + stuckAfter.toSeconds() + " s), no " + what + " at the site");
            }
            // It arrived and is gone since (the status is read before the site is listed, so it is not on its way).
            case COMPLETED, REPLICA -> new Unmatched(Finding.Kind.MISSING, "status " + status.status() + " but no " + what + " at the site");
        };
    }

    /**
     * The site's delete marker in this source marker's place: by id where the site keeps them, else the oldest marker not
     * matched yet between the replicas of the source's older and newer versions (each source marker has its own at the
     * site), or, when none is left, the newest one matched already (a site that kept one marker for consecutive ones:
     * replicated before each had its own).
     */
    private static Integer matchDeleteMarker(ListedVersion marker, Map<String, Integer> sourceOrder, Map<String, List<Integer>> copies,
                                             List<SiteEntry> siteHistory, Set<Integer> used) {
        List<Integer> byId = copies.get(marker.versionId());
        if (byId != null) {
            for (int p : byId) {
                if (siteHistory.get(p).listed().deleteMarker()) {
                    return p;
                }
            }
        }
        int at = sourceOrder.getOrDefault(marker.versionId(), -1);
        int lower = -1;
        int upper = siteHistory.size();
        for (Map.Entry<String, List<Integer>> copy : copies.entrySet()) {
            Integer order = sourceOrder.get(copy.getKey());
            if (order == null || order == at) {
                continue;
            }
            if (order < at) {
                lower = Math.max(lower, copy.getValue().getLast());
            } else {
                upper = Math.min(upper, copy.getValue().getFirst());
            }
        }
        Integer matchedAlready = null;
        for (int p = lower + 1; p < upper; p++) {
            SiteEntry entry = siteHistory.get(p);
            if (entry.listed().deleteMarker() && entry.replicaOf() == null) {
                if (!used.contains(p)) {
                    return p;
                }
                // The newest matched: source markers are matched oldest first, so a later one shares the marker of the one
                // just before it, never an older one's (markers cannot be out of order among themselves).
                matchedAlready = p;
            }
        }
        return matchedAlready;
    }

    /** Null when the site's current entry is what the source's newest expected entry calls for. */
    private static String currentMismatch(ListedVersion newest, SiteEntry current) {
        if (newest.deleteMarker()) {
            return current.listed().deleteMarker() ? null
                    : "the source shows the object deleted, but the site's current version " + describe(current);
        }
        if (!current.listed().deleteMarker() && newest.versionId().equals(current.replicaOf())) {
            return null;
        }
        return "this is the source's current version, but the site's current version " + describe(current);
    }

    private static String describe(SiteEntry entry) {
        String id = entry.listed().versionId();
        if (entry.listed().deleteMarker()) {
            return "is a delete marker (" + id + ")";
        }
        return entry.replicaOf() == null ? id + " is not a replica (written at the site by someone else)"
                : id + " is the replica of source version " + entry.replicaOf();
    }

    private static Instant latest(Instant a, Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }
}
