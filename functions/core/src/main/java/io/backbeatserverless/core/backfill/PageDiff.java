package io.backbeatserverless.core.backfill;

import io.backbeatserverless.core.versions.ListedEntry;
import io.backbeatserverless.core.versions.ListedVersion;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a site's listing says about a page's keys (issue 29), decided in one place, from the listings alone (sizes, ETags,
 * delete markers, order: no look at any version):
 * <ul>
 *   <li>the site has the key's whole history, entry for entry (same sizes, ETags and markers, in order): nothing to do;</li>
 *   <li>the site has nothing of the key, or the start of its history and a version on top: the rest is copied in order,
 *       each write conditional on the site's current object being the one the listing (or the write before) showed, so a
 *       live write that comes between makes it stop;</li>
 *   <li>anything else (a site history that differs, a delete marker or a version too large for one request to copy,
 *       a condition that failed) goes one version at a time through the live path's decision, which is right whatever
 *       wrote what is there.</li>
 * </ul>
 * An ETag is the MD5 of a single-part object's content, so equal ETags and sizes mean equal content. Two versions of
 * one key with the same content cannot be told apart by a listing, so a key whose page history repeats a content, or
 * whose site entries matched were written after the page was listed, goes one version at a time. What the listings do not carry (content headers, user metadata, tags) is verify's deep mode's.
 */
public final class PageDiff {

    private PageDiff() {
    }

    public enum Plan {
        /** The site has the key's history entry for entry. */
        ALREADY_THERE,
        /** Copy the versions after the site's, in order, each write conditional on the one before. */
        COPY_IN_ORDER,
        /** One version at a time, through the live path. */
        ONE_BY_ONE,
        /**
         * The listings cannot tell (content repeats, or site entries written since the page was listed): the site's entries
         * of the key are each read for whose replica they are, and the key planned by those ids ({@link #planByReplicas}).
         */
        ASK_THE_SITE
    }

    /**
     * One key of a page: its versions (oldest first) for the site, how they go, how many of them the site has already
     * ({@code atSite}, the first ones) and the ETag of the site's current object the first copy is conditional on
     * ({@code currentETag}; null: the key must have no current object).
     */
    public record KeyPlan(String key, List<BackfillPage.PageVersion> versions, Plan plan, int atSite, String currentETag) {

        /** The versions still to copy in order. */
        public List<BackfillPage.PageVersion> toCopy() {
            return versions.subList(atSite, versions.size());
        }
    }

    /**
     * @param versions       the page's versions for the site, keys in order, each key's versions oldest first
     * @param siteHistories  each source key's entries at the site, oldest first (keys the site has nothing of are absent)
     * @param wholeCopyLimit a version at or above this size is copied in parts (the live path's)
     */
    public static List<KeyPlan> plan(List<BackfillPage.PageVersion> versions, Map<String, List<ListedVersion>> siteHistories,
                                     long wholeCopyLimit, Instant listedAt) {
        List<KeyPlan> plans = new ArrayList<>();
        byKey(versions).forEach((key, history) -> plans.add(planKey(key, history, siteHistories.getOrDefault(key, List.of()), wholeCopyLimit,
                listedAt)));
        return plans;
    }

    /**
     * Whether two versions of a history (markers aside) have the same content (size and ETag): such a history cannot be
     * matched with a site's by position, since a site holding the newer one's replica alone reads as holding the older.
     */
    public static boolean contentRepeats(List<? extends ListedEntry> history) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (ListedEntry entry : history) {
            if (!entry.deleteMarker() && entry.eTag() != null && !seen.add(entry.size() + "/" + entry.eTag())) {
                return true;
            }
        }
        return false;
    }

    /**
     * How many of the first entries of two histories (each oldest first) are the same entry: same size and ETag, or both
     * delete markers. Verify takes a site history all of whose entries are the first of the source's for the replicas
     * of those, without a look at any.
     */
    public static int sameEntries(List<? extends ListedEntry> source, List<? extends ListedEntry> site) {
        int same = 0;
        while (same < source.size() && same < site.size() && sameEntry(source.get(same), site.get(same))) {
            same++;
        }
        return same;
    }

    /** Every key one version at a time: what a site that cannot be listed gets. */
    public static List<KeyPlan> oneByOne(List<BackfillPage.PageVersion> versions) {
        List<KeyPlan> plans = new ArrayList<>();
        byKey(versions).forEach((key, history) -> plans.add(new KeyPlan(key, history, Plan.ONE_BY_ONE, 0, null)));
        return plans;
    }

    /** Each key's versions, keys in the page's order. */
    private static Map<String, List<BackfillPage.PageVersion>> byKey(List<BackfillPage.PageVersion> versions) {
        Map<String, List<BackfillPage.PageVersion>> byKey = new LinkedHashMap<>();
        versions.forEach(v -> byKey.computeIfAbsent(v.key(), k -> new ArrayList<>()).add(v));
        byKey.replaceAll((key, history) -> List.copyOf(history));
        return byKey;
    }

    private static KeyPlan planKey(String key, List<BackfillPage.PageVersion> history, List<ListedVersion> atSite, long wholeCopyLimit,
                                   Instant listedAt) {
        int same = sameEntries(history, atSite);
        if (same > 0 && (contentRepeats(history) || writtenSince(atSite.subList(0, same), listedAt))) {
            // Matched by content where content does not tell versions apart: the same content twice in the page, or a site
            // entry written after the page was listed (a live write's replica of a version the page does not know, which
            // may have the same content as one it does). Found by the chaos run of a backfill beside live writes: a page
            // counted an older version as at the site where the site held the newer one's replica. Each site entry's
            // replica marker says which source version it is.
            return new KeyPlan(key, history, Plan.ASK_THE_SITE, 0, null);
        }
        return decide(key, history, atSite, same, wholeCopyLimit);
    }

    /**
     * An {@link Plan#ASK_THE_SITE} key planned again by whose replica each site entry is ({@code replicaOf}, one per entry
     * of {@code atSite}: the source version id it replicates, null for a delete marker or an object that is no replica):
     * the page's versions the site has in order are those whose ids match from the oldest on (markers matching markers).
     */
    public static KeyPlan planByReplicas(KeyPlan asked, List<ListedVersion> atSite, List<String> replicaOf, long wholeCopyLimit) {
        List<BackfillPage.PageVersion> history = asked.versions();
        int same = 0;
        while (same < history.size() && same < atSite.size()) {
            BackfillPage.PageVersion v = history.get(same);
            boolean matches = v.deleteMarker() ? atSite.get(same).deleteMarker() : v.versionId().equals(replicaOf.get(same));
            if (!matches) {
                break;
            }
            same++;
        }
        return decide(asked.key(), history, atSite, same, wholeCopyLimit);
    }

    private static KeyPlan decide(String key, List<BackfillPage.PageVersion> history, List<ListedVersion> atSite, int same,
                                  long wholeCopyLimit) {
        if (same == atSite.size() && same == history.size()) {
            return new KeyPlan(key, history, Plan.ALREADY_THERE, same, null);
        }
        boolean restPlain = history.subList(same, history.size()).stream().noneMatch(v -> v.deleteMarker() || v.size() >= wholeCopyLimit);
        ListedVersion current = atSite.isEmpty() ? null : atSite.getLast();
        if (same == atSite.size() && restPlain && (current == null || !current.deleteMarker())) {
            return new KeyPlan(key, history, Plan.COPY_IN_ORDER, same, current == null ? null : current.eTag());
        }
        return new KeyPlan(key, history, Plan.ONE_BY_ONE, 0, null);
    }

    /**
     * Any of these site entries written at or after the page's listing, give or take {@link #CLOCK_MARGIN} (listings give
     * times to the second; the site's clock is not the populator's). Unknown listing time: none.
     */
    private static boolean writtenSince(List<ListedVersion> siteEntries, Instant listedAt) {
        if (listedAt == null) {
            return false;
        }
        Instant since = listedAt.minus(CLOCK_MARGIN);
        return siteEntries.stream().anyMatch(v -> v.lastModified() == null || !v.lastModified().isBefore(since));
    }

    private static final java.time.Duration CLOCK_MARGIN = java.time.Duration.ofSeconds(2);

    private static boolean sameEntry(ListedEntry source, ListedEntry site) {
        if (source.deleteMarker() || site.deleteMarker()) {
            return source.deleteMarker() && site.deleteMarker();
        }
        return source.size() == site.size() && source.eTag() != null && Objects.equals(source.eTag(), site.eTag());
    }
}
