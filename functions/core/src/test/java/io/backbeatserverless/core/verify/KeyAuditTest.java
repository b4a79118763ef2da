package io.backbeatserverless.core.verify;

import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.verify.KeyAudit.SiteEntry;
import io.backbeatserverless.core.verify.KeyAudit.SourceEntry;
import io.backbeatserverless.core.versions.ListedVersion;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class KeyAuditTest {

    private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
    private static final KeyAudit.Settings SETTINGS = new KeyAudit.Settings(Duration.ofMinutes(15), true);
    private static final SiteOutcome DONE = new SiteOutcome(ReplicationStatus.COMPLETED, null, 1, 3, "2026-11-28T10:00:00Z");

    /** A source history built oldest first, with what reached the site. */
    private final List<ListedVersion> source = new ArrayList<>();
    private final List<SourceEntry> expected = new ArrayList<>();
    private final List<SiteEntry> site = new ArrayList<>();

    private ListedVersion version(String id, int minutesAgo, SiteOutcome status) {
        ListedVersion v = new ListedVersion("k", id, false, NOW.minus(Duration.ofMinutes(minutesAgo)), false, 3, md5(id));
        source.add(v);
        expected.add(new SourceEntry(v, details(id, Map.of("t", "1"), true, null), status));
        return v;
    }

    private ListedVersion marker(String id, int minutesAgo, SiteOutcome status) {
        ListedVersion v = new ListedVersion("k", id, true, NOW.minus(Duration.ofMinutes(minutesAgo)), false, 0, null);
        source.add(v);
        expected.add(new SourceEntry(v, null, status));
        return v;
    }

    private void replica(String of) {
        replica(of, details(of, Map.of("t", "1"), true, of));
    }

    private void replica(String of, VersionDetails details) {
        site.add(new SiteEntry(new ListedVersion("b/k", "site-" + site.size(), false, NOW, false, details.size(), details.eTag()), of, details));
    }

    private void siteMarker() {
        site.add(new SiteEntry(new ListedVersion("b/k", "site-" + site.size(), true, NOW, false, 0, null), null, null));
    }

    private static VersionDetails details(String id, Map<String, String> tags, boolean replica, String replicaOf) {
        return new VersionDetails(3, md5(id), Map.of("content-type", "text/plain"), Map.of("color", "blue"), tags, replicaOf, replica);
    }

    private static String md5(String id) {
        return String.format("%032x", Math.abs(id.hashCode()));
    }

    private KeyAudit.Result audit() {
        return KeyAudit.audit("site-a", "b", "k", source, expected, site, SETTINGS, NOW);
    }

    /**
     * Issue 28: the order oracle. The site's latest is right, but beneath it two versions are swapped (what a version
     * deferred behind its key's later entries left): out of order, and the run is not clean.
     */
    @Test
    void aHistoryWithTheRightLatestButTwoVersionsSwappedIsOutOfOrder() {
        version("v1", 60, DONE);
        version("v2", 50, DONE);
        version("v3", 40, DONE);
        replica("v2");
        replica("v1");
        replica("v3");

        KeyAudit.Result result = audit();

        assertThat(result.findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.OUT_OF_ORDER);
            assertThat(f.versionId()).isEqualTo("v1");
            assertThat(f.detail()).isEqualTo("version above version v2 at the site, which the source wrote after it (site positions 1 and 0, oldest 0)");
        });
        assertThat(result.counts()).isEqualTo(new SiteCounts(3, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1));
        assertThat(result.counts().nothingLost()).isFalse();
        assertThat(result.repairs()).as("nothing repairs a history in place").isEmpty();
    }

    /**
     * A history put right on top by copying a version again still shows the misplaced copy beneath: every copy counts for
     * the order, and the earlier copy of the version copied twice is extra.
     */
    @Test
    void aVersionCopiedAgainOnTopLeavesItsMisplacedCopyOutOfOrderAndExtra() {
        version("v1", 60, DONE);
        version("v2", 50, DONE);
        version("v3", 40, DONE);
        replica("v1");
        replica("v3");
        replica("v2");
        replica("v3");

        KeyAudit.Result result = audit();

        assertThat(result.findings()).extracting(Finding::kind, Finding::versionId).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(Finding.Kind.OUT_OF_ORDER, "v2"),
                org.assertj.core.groups.Tuple.tuple(Finding.Kind.EXTRA, "site-1"));
        assertThat(result.counts().identical()).isEqualTo(2);
        assertThat(result.counts().nothingLost()).isFalse();
    }

    /** A delete marker matched by id (a CloudServer site) above the version the source wrote after it: the wrong latest, reported once. */
    @Test
    void aMarkerAboveTheLatestVersionIsReportedOnceAsTheWrongLatest() {
        version("v1", 60, DONE);
        marker("d2", 50, DONE);
        version("v3", 40, DONE);
        replica("v1");
        replica("v3");
        site.add(new SiteEntry(new ListedVersion("b/k", "site-2", true, NOW, false, 0, null), "d2", null));

        KeyAudit.Result result = audit();

        assertThat(result.findings()).extracting(Finding::kind, Finding::versionId)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(Finding.Kind.DIVERGENT, "v3"));
        assertThat(result.counts().outOfOrder()).as("the latest, reported as divergent, is not reported again").isZero();
    }

    @Test
    void versionsAndDeleteMarkersInPlaceAreIdentical() {
        version("v1", 60, DONE);
        marker("d1", 50, DONE);
        version("v2", 40, DONE);
        marker("d2", 30, DONE);
        replica("v1");
        siteMarker();
        replica("v2");
        siteMarker();

        KeyAudit.Result result = audit();

        assertThat(result.findings()).isEmpty();
        assertThat(result.counts()).isEqualTo(new SiteCounts(4, 4, 0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(result.counts().nothingLost()).isTrue();
        assertThat(result.restsOnStatus()).as("every entry at the site: decided by the listings, no status read").isFalse();
    }

    /** Verify reads the statuses of a page's undecided keys only: those where an expected entry is not at the site. */
    @Test
    void aKeyWithAnEntryNotAtTheSiteRestsOnItsStatus() {
        version("v1", 60, null);
        version("v2", 40, null);
        replica("v1");

        KeyAudit.Result result = audit();

        assertThat(result.restsOnStatus()).isTrue();
        assertThat(result.findings()).extracting(Finding::versionId).containsExactly("v2");
    }

    @Test
    void anAbsentVersionIsExplainedByItsStatusOrByTime() {
        version("never-queued", 60, null);
        version("failed", 55, new SiteOutcome(ReplicationStatus.FAILED, "AccessDenied (HTTP 403): no", 5, 0, "2026-11-28T11:00:00Z"));
        version("skipped", 50, new SiteOutcome(ReplicationStatus.SKIPPED, "superseded", 1, 0, "2026-11-28T11:00:00Z"));
        version("stuck", 45, new SiteOutcome(ReplicationStatus.PENDING, null, 0, 0, "2026-11-28T11:15:00Z"));
        version("lost", 40, DONE);
        version("recent", 1, null);

        KeyAudit.Result result = audit();

        assertThat(result.findings()).extracting(Finding::versionId, Finding::kind).containsExactly(
                org.assertj.core.groups.Tuple.tuple("never-queued", Finding.Kind.MISSING),
                org.assertj.core.groups.Tuple.tuple("failed", Finding.Kind.FAILED),
                org.assertj.core.groups.Tuple.tuple("skipped", Finding.Kind.SKIPPED),
                org.assertj.core.groups.Tuple.tuple("stuck", Finding.Kind.STUCK),
                org.assertj.core.groups.Tuple.tuple("lost", Finding.Kind.MISSING));
        assertThat(result.findings().get(1).detail()).isEqualTo("AccessDenied (HTTP 403): no");
        assertThat(result.findings().get(4).detail()).contains("status COMPLETED but no version at the site");
        assertThat(result.counts().inFlight()).as("younger than the threshold").isEqualTo(1);
        assertThat(result.repairs()).extracting(KeyAudit.Repair::versionId).containsExactly("never-queued", "stuck", "lost");
        assertThat(result.repairs()).noneMatch(KeyAudit.Repair::forceCopy);
    }

    @Test
    void aReplicaThatDiffersIsDivergentWithWhatDiffers() {
        version("v1", 60, DONE);
        replica("v1", new VersionDetails(4, md5("other"), Map.of("content-type", "text/html"), Map.of(), Map.of(), "v1", true));

        KeyAudit.Result result = audit();

        assertThat(result.findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.DIVERGENT);
            assertThat(f.detail()).contains("size 3 at the source, 4 at the site", "ETag", "content-type: 'text/plain' at the source, 'text/html' at the site",
                    "metadata color: 'blue' at the source, absent at the site", "tag t: '1' at the source, absent at the site");
        });
        assertThat(result.repairs()).containsExactly(new KeyAudit.Repair("v1", false, true));
    }

    @Test
    void etagsAreNotComparedForSitesWhoseEtagsAreNotMd5s() {
        version("v1", 60, DONE);
        replica("v1", new VersionDetails(3, md5("encrypted"), Map.of("content-type", "text/plain"), Map.of("color", "blue"),
                Map.of("t", "1"), "v1", true));

        assertThat(KeyAudit.audit("site-a", "b", "k", source, expected, site, new KeyAudit.Settings(Duration.ofMinutes(15), false), NOW)
                .findings()).isEmpty();
        assertThat(audit().findings()).singleElement().extracting(Finding::kind).isEqualTo(Finding.Kind.DIVERGENT);
    }

    @Test
    void aDeleteMarkerAddedByHandAtTheSiteMakesTheCurrentVersionDivergent() {
        version("v1", 60, DONE);
        replica("v1");
        siteMarker();

        KeyAudit.Result result = audit();

        assertThat(result.findings()).extracting(Finding::kind).containsExactlyInAnyOrder(Finding.Kind.DIVERGENT, Finding.Kind.EXTRA);
        assertThat(result.findings()).filteredOn(f -> f.kind() == Finding.Kind.DIVERGENT).singleElement()
                .satisfies(f -> assertThat(f.detail()).contains("current version is a delete marker"));
        assertThat(result.repairs()).containsExactly(new KeyAudit.Repair("v1", false, true));
        assertThat(result.counts().identical()).isZero();
    }

    @Test
    void anOlderDeleteMarkerAppliedLateHidesTheNewerReplica() {
        version("v1", 60, DONE);
        marker("d1", 50, DONE);
        version("v2", 40, DONE);
        replica("v1");
        replica("v2");
        siteMarker(); // d1 arrived after v2

        KeyAudit.Result result = audit();

        assertThat(result.findings()).extracting(Finding::versionId, Finding::kind).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("d1", Finding.Kind.MISSING),
                org.assertj.core.groups.Tuple.tuple("v2", Finding.Kind.DIVERGENT),
                org.assertj.core.groups.Tuple.tuple("site-2", Finding.Kind.EXTRA));
    }

    /** Each source marker has its own at the site now (found running as deployed): two in a row are two, none extra. */
    @Test
    void consecutiveDeleteMarkersEachMatchTheirOwn() {
        version("v1", 60, DONE);
        marker("d1", 50, DONE);
        marker("d2", 45, DONE);
        replica("v1");
        siteMarker();
        siteMarker();

        KeyAudit.Result result = audit();

        assertThat(result.findings()).isEmpty();
        assertThat(result.counts().identical()).isEqualTo(3);
    }

    /** A site replicated before then kept one marker for consecutive ones: still one deleted state, nothing missing. */
    @Test
    void consecutiveDeleteMarkersAreOneDeletedState() {
        version("v1", 60, DONE);
        marker("d1", 50, DONE);
        marker("d2", 45, DONE);
        replica("v1");
        siteMarker();

        KeyAudit.Result result = audit();

        assertThat(result.findings()).isEmpty();
        assertThat(result.counts().identical()).isEqualTo(3);
    }

    /**
     * Three markers in a row where the site has two: the third shares the newer one, not the older (found by the chaos
     * run of a backfill: "delete marker above delete marker ... which the source wrote after it", where markers, which
     * nothing tells apart, can be in no wrong order among themselves).
     */
    @Test
    void aMarkerSharingTheSitesMarkerWithAnOlderOneSharesTheNewest() {
        version("v1", 60, DONE);
        marker("d1", 50, DONE);
        marker("d2", 45, DONE);
        marker("d3", 40, DONE);
        replica("v1");
        siteMarker();
        siteMarker();

        KeyAudit.Result result = audit();

        assertThat(result.findings()).isEmpty();
        assertThat(result.counts().identical()).isEqualTo(4);
    }

    @Test
    void aReplicaOfAVersionTheSourceNoLongerHasIsExtra() {
        version("v1", 60, DONE);
        replica("gone");
        replica("v1");

        KeyAudit.Result result = audit();

        assertThat(result.findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.EXTRA);
            assertThat(f.versionId()).isEqualTo("site-0");
            assertThat(f.detail()).contains("source version gone");
        });
    }

    @Test
    void anObjectWrittenOverTheReplicaByHandIsDivergent() {
        version("v1", 60, DONE);
        replica("v1");
        replica(null, details("mine", Map.of(), false, null));

        KeyAudit.Result result = audit();

        assertThat(result.findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.DIVERGENT);
            assertThat(f.detail()).contains("site-1 is not a replica");
        });
    }

    @Test
    void deleteMarkersKeepingSourceIdsAreMatchedById() {
        version("v1", 60, DONE);
        marker("d1", 50, DONE);
        replica("v1");
        site.add(new SiteEntry(new ListedVersion("k", "d1", true, NOW, true, 0, null), "d1", null));

        assertThat(audit().findings()).isEmpty();
    }
}
