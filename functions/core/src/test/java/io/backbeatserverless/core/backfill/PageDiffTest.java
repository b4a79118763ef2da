package io.backbeatserverless.core.backfill;

import io.backbeatserverless.core.versions.ListedVersion;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PageDiffTest {

    private static final long LIMIT = 1 << 20;

    private static BackfillPage.PageVersion v(String key, String id, String eTag) {
        return new BackfillPage.PageVersion(key, id, 4, eTag, "2026-12-07T00:00:00Z", false, 0, Map.of());
    }

    private static BackfillPage.PageVersion marker(String key, String id) {
        return new BackfillPage.PageVersion(key, id, 0, null, "2026-12-07T00:00:00Z", true, 0, Map.of());
    }

    private static ListedVersion site(String eTag) {
        return new ListedVersion("k", "s-" + eTag, false, Instant.EPOCH, false, 4, eTag);
    }

    private static ListedVersion siteMarker() {
        return new ListedVersion("k", "m", true, Instant.EPOCH, false, 0, null);
    }

    @Test
    void aKeyTheSiteHasNothingOfIsCopiedInOrderOnTheKeyBeingAbsent() {
        PageDiff.KeyPlan plan = PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "b")), Map.of(), LIMIT, null).getFirst();
        assertThat(plan.plan()).isEqualTo(PageDiff.Plan.COPY_IN_ORDER);
        assertThat(plan.toCopy()).extracting(BackfillPage.PageVersion::versionId).containsExactly("1", "2");
        assertThat(plan.currentETag()).isNull();
    }

    @Test
    void aKeyWhoseWholeHistoryIsAtTheSiteNeedsNothing() {
        PageDiff.KeyPlan plan = PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "b")), Map.of("k", List.of(site("a"), site("b"))), LIMIT, null)
                .getFirst();
        assertThat(plan.plan()).isEqualTo(PageDiff.Plan.ALREADY_THERE);
    }

    @Test
    void theRestOfAHistoryIsCopiedOnTheSitesCurrentObjectBeingTheOneListed() {
        PageDiff.KeyPlan plan = PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "b"), v("k", "3", "c")),
                Map.of("k", List.of(site("a"))), LIMIT, null).getFirst();
        assertThat(plan.plan()).isEqualTo(PageDiff.Plan.COPY_IN_ORDER);
        assertThat(plan.toCopy()).extracting(BackfillPage.PageVersion::versionId).containsExactly("2", "3");
        assertThat(plan.currentETag()).isEqualTo("a");
    }

    @Test
    void aSiteHistoryThatDiffersGoesOneVersionAtATime() {
        // The live path replicated the newest version only: the older ones must not go on top of it.
        PageDiff.KeyPlan plan = PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "b")), Map.of("k", List.of(site("b"))), LIMIT, null).getFirst();
        assertThat(plan.plan()).isEqualTo(PageDiff.Plan.ONE_BY_ONE);
    }

    @Test
    void deleteMarkersAndLargeVersionsGoOneAtATimeUnlessAlreadyThere() {
        assertThat(PageDiff.plan(List.of(v("k", "1", "a"), marker("k", "2")), Map.of(), LIMIT, null).getFirst().plan())
                .isEqualTo(PageDiff.Plan.ONE_BY_ONE);
        assertThat(PageDiff.plan(List.of(v("k", "1", "a"), marker("k", "2")), Map.of("k", List.of(site("a"), siteMarker())), LIMIT, null)
                .getFirst().plan()).isEqualTo(PageDiff.Plan.ALREADY_THERE);
        assertThat(PageDiff.plan(List.of(v("k", "1", "a")), Map.of(), 4, null).getFirst().plan()).isEqualTo(PageDiff.Plan.ONE_BY_ONE);
        // A marker on top at the site: a copy conditional on an object would find none.
        assertThat(PageDiff.plan(List.of(marker("k", "1"), v("k", "2", "b")), Map.of("k", List.of(siteMarker())), LIMIT, null).getFirst().plan())
                .isEqualTo(PageDiff.Plan.ONE_BY_ONE);
    }

    @Test
    void keysKeepThePagesOrder() {
        assertThat(PageDiff.plan(List.of(v("a", "1", "x"), v("b", "1", "y"), v("b", "2", "z")), Map.of(), LIMIT, null))
                .extracting(PageDiff.KeyPlan::key).containsExactly("a", "b");
    }

    /**
     * Found by the chaos run of a backfill beside live writes: where content does not tell versions apart, nothing is
     * matched by position. A page that repeats a content, or site entries written after the page was listed (a live
     * write's replica of a version the page does not know), ask the site whose replica each entry is, and the key is
     * planned by those ids.
     */
    @Test
    void repeatedContentOrSiteEntriesWrittenSinceTheListingArePlannedByWhoseReplicaEachSiteEntryIs() {
        Instant listedAt = Instant.parse("2026-12-07T10:00:00Z");
        ListedVersion before = new ListedVersion("k", "s1", false, listedAt.minusSeconds(60), true, 4, "a");
        ListedVersion since = new ListedVersion("k", "s1", false, listedAt.plusSeconds(5), true, 4, "a");

        PageDiff.KeyPlan repeated = PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "a")), Map.of("k", List.of(before)), LIMIT, listedAt)
                .getFirst();
        PageDiff.KeyPlan newer = PageDiff.plan(List.of(v("k", "1", "a")), Map.of("k", List.of(since)), LIMIT, listedAt).getFirst();

        assertThat(repeated.plan()).isEqualTo(PageDiff.Plan.ASK_THE_SITE);
        assertThat(newer.plan()).as("the site's entry may be the replica of a newer version of the same content").isEqualTo(PageDiff.Plan.ASK_THE_SITE);
        // The site's one entry is the replica of version 2: version 1 cannot go below it.
        assertThat(PageDiff.planByReplicas(repeated, List.of(before), java.util.Arrays.asList("2"), LIMIT).plan()).isEqualTo(PageDiff.Plan.ONE_BY_ONE);
        // It is version 1's: version 2 is copied on top of it.
        PageDiff.KeyPlan byIds = PageDiff.planByReplicas(repeated, List.of(before), java.util.Arrays.asList("1"), LIMIT);
        assertThat(byIds.plan()).isEqualTo(PageDiff.Plan.COPY_IN_ORDER);
        assertThat(byIds.toCopy()).extracting(BackfillPage.PageVersion::versionId).containsExactly("2");
        assertThat(PageDiff.planByReplicas(newer, List.of(since), java.util.Arrays.asList("1"), LIMIT).plan()).isEqualTo(PageDiff.Plan.ALREADY_THERE);
        // Nothing at the site, or entries written well before the listing with distinct content: the listings decide.
        assertThat(PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "a")), Map.of(), LIMIT, listedAt).getFirst().plan())
                .isEqualTo(PageDiff.Plan.COPY_IN_ORDER);
        assertThat(PageDiff.plan(List.of(v("k", "1", "a")), Map.of("k", List.of(before)), LIMIT, listedAt).getFirst().plan())
                .isEqualTo(PageDiff.Plan.ALREADY_THERE);
        assertThat(PageDiff.contentRepeats(List.of(marker("k", "1"), marker("k", "2"), v("k", "3", "a")))).as("markers aside").isFalse();
    }
}
