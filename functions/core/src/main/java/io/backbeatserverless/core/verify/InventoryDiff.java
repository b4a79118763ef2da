package io.backbeatserverless.core.verify;

import io.backbeatserverless.core.backfill.PageDiff;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationRule;
import io.backbeatserverless.core.versions.KeyVersions;
import io.backbeatserverless.core.versions.ListedVersion;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Verify of a bucket by inventory reports (issue 29), one key at one site: the source's report and the site's say which
 * keys are surely identical, so that only the others are read live. A report's rows carry no order within a key (S3
 * documents none, and multipart versions' LastModified is their upload's start), so the two sides are compared as
 * multisets: the entries the source's rules send to the site, against the site's entries, matched by what a listing
 * carries ({@link PageDiff#sameEntries}: size and ETag, or both delete markers). A key whose sides match is identical,
 * with no request; any other key (a version missing or extra there, a rule on tags that a report cannot decide, a version
 * written after one of the two reports) is a candidate, which verify audits from live listings and the statuses as it
 * audits every key of a listed bucket: order included.
 */
public final class InventoryDiff {

    private InventoryDiff() {
    }

    /** What the reports decided of one key at one site: identical (with how many entries), or to be read live. */
    public record Verdict(boolean identical, long entries) {
        static final Verdict CANDIDATE = new Verdict(false, 0);
    }

    /**
     * @param sourceRows the key's rows in the source's report (any order)
     * @param siteRows   the replica key's rows in the site's report (any order)
     * @param site       the site judged
     */
    public static Verdict judge(String key, List<ListedVersion> sourceRows, List<ListedVersion> siteRows, ReplicationConfiguration rules,
                                String site) {
        if (rules.needsTagsFor(key)) {
            return Verdict.CANDIDATE; // a rule on tags: which versions go where is for the live audit, which reads them
        }
        ReplicationRule rule = rules.ruleFor(key, Map.of()).orElse(null);
        List<ListedVersion> expected = new ArrayList<>();
        for (ListedVersion row : sourceRows) {
            if (rule != null && rule.sites().contains(site) && (!row.deleteMarker() || rule.deleteMarkerReplication())) {
                expected.add(row);
            }
        }
        if (expected.size() != siteRows.size()) {
            return Verdict.CANDIDATE;
        }
        if (expected.isEmpty()) {
            return new Verdict(true, 0);
        }
        List<ListedVersion> a = sorted(expected);
        List<ListedVersion> b = sorted(siteRows);
        return PageDiff.sameEntries(a, b) == a.size() ? new Verdict(true, a.size()) : Verdict.CANDIDATE;
    }

    /** One shard at one site: the keys to read live, and how many entries the reports found identical. */
    public record ShardVerdict(Set<String> candidates, long identical) {
    }

    /** The keys of one shard to read live at a site: every key either side lists, but those the reports find identical. */
    public static ShardVerdict judge(Map<String, List<ListedVersion>> source, Map<String, List<ListedVersion>> site,
                                     ReplicationConfiguration rules, String siteName) {
        Set<String> keys = new TreeSet<>(KeyVersions.KEY_ORDER);
        keys.addAll(source.keySet());
        keys.addAll(site.keySet());
        Set<String> candidates = new TreeSet<>(KeyVersions.KEY_ORDER);
        long identical = 0;
        for (String key : keys) {
            Verdict verdict = judge(key, source.getOrDefault(key, List.of()), site.getOrDefault(key, List.of()), rules, siteName);
            if (verdict.identical()) {
                identical += verdict.entries();
            } else {
                candidates.add(key);
            }
        }
        return new ShardVerdict(candidates, identical);
    }

    /** Markers first, then by size and ETag: two multisets of the same entries sort alike. */
    private static List<ListedVersion> sorted(List<ListedVersion> rows) {
        return rows.stream().sorted(Comparator.comparing(ListedVersion::deleteMarker).reversed()
                .thenComparingLong(ListedVersion::size).thenComparing(v -> v.eTag() == null ? "" : v.eTag())).toList();
    }
}
