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
        PageDiff.KeyPlan plan = PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "b")), Map.of(), LIMIT).getFirst();
        assertThat(plan.plan()).isEqualTo(PageDiff.Plan.COPY_IN_ORDER);
        assertThat(plan.toCopy()).extracting(BackfillPage.PageVersion::versionId).containsExactly("1", "2");
        assertThat(plan.currentETag()).isNull();
    }

    @Test
    void aKeyWhoseWholeHistoryIsAtTheSiteNeedsNothing() {
        PageDiff.KeyPlan plan = PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "b")), Map.of("k", List.of(site("a"), site("b"))), LIMIT)
                .getFirst();
        assertThat(plan.plan()).isEqualTo(PageDiff.Plan.ALREADY_THERE);
    }

    @Test
    void theRestOfAHistoryIsCopiedOnTheSitesCurrentObjectBeingTheOneListed() {
        PageDiff.KeyPlan plan = PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "b"), v("k", "3", "c")),
                Map.of("k", List.of(site("a"))), LIMIT).getFirst();
        assertThat(plan.plan()).isEqualTo(PageDiff.Plan.COPY_IN_ORDER);
        assertThat(plan.toCopy()).extracting(BackfillPage.PageVersion::versionId).containsExactly("2", "3");
        assertThat(plan.currentETag()).isEqualTo("a");
    }

    @Test
    void aSiteHistoryThatDiffersGoesOneVersionAtATime() {
        // The live path replicated the newest version only: the older ones must not go on top of it.
        PageDiff.KeyPlan plan = PageDiff.plan(List.of(v("k", "1", "a"), v("k", "2", "b")), Map.of("k", List.of(site("b"))), LIMIT).getFirst();
        assertThat(plan.plan()).isEqualTo(PageDiff.Plan.ONE_BY_ONE);
    }

    @Test
    void deleteMarkersAndLargeVersionsGoOneAtATimeUnlessAlreadyThere() {
        assertThat(PageDiff.plan(List.of(v("k", "1", "a"), marker("k", "2")), Map.of(), LIMIT).getFirst().plan())
                .isEqualTo(PageDiff.Plan.ONE_BY_ONE);
        assertThat(PageDiff.plan(List.of(v("k", "1", "a"), marker("k", "2")), Map.of("k", List.of(site("a"), siteMarker())), LIMIT)
                .getFirst().plan()).isEqualTo(PageDiff.Plan.ALREADY_THERE);
        assertThat(PageDiff.plan(List.of(v("k", "1", "a")), Map.of(), 4).getFirst().plan()).isEqualTo(PageDiff.Plan.ONE_BY_ONE);
        // A marker on top at the site: a copy conditional on an object would find none.
        assertThat(PageDiff.plan(List.of(marker("k", "1"), v("k", "2", "b")), Map.of("k", List.of(siteMarker())), LIMIT).getFirst().plan())
                .isEqualTo(PageDiff.Plan.ONE_BY_ONE);
    }

    @Test
    void keysKeepThePagesOrder() {
        assertThat(PageDiff.plan(List.of(v("a", "1", "x"), v("b", "1", "y"), v("b", "2", "z")), Map.of(), LIMIT))
                .extracting(PageDiff.KeyPlan::key).containsExactly("a", "b");
    }
}
