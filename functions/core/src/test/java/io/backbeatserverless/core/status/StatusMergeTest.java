package io.backbeatserverless.core.status;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.backbeatserverless.core.status.ReplicationStatus.COMPLETED;
import static io.backbeatserverless.core.status.ReplicationStatus.FAILED;
import static io.backbeatserverless.core.status.ReplicationStatus.PENDING;
import static io.backbeatserverless.core.status.ReplicationStatus.PROCESSING;
import static io.backbeatserverless.core.status.ReplicationStatus.SKIPPED;
import static org.assertj.core.api.Assertions.assertThat;

class StatusMergeTest {

    @Test
    void aSitesCompletedIsFinalAgainstReplayedOutcomes() {
        assertThat(StatusMerge.nextSiteStatus(COMPLETED, FAILED)).isEqualTo(COMPLETED);
        assertThat(StatusMerge.nextSiteStatus(COMPLETED, SKIPPED)).isEqualTo(COMPLETED);
        assertThat(StatusMerge.nextSiteStatus(SKIPPED, FAILED)).isEqualTo(SKIPPED);
        assertThat(StatusMerge.nextSiteStatus(FAILED, COMPLETED)).isEqualTo(COMPLETED);
        assertThat(StatusMerge.nextSiteStatus(null, FAILED)).isEqualTo(FAILED);
        assertThat(StatusMerge.changesSite(COMPLETED, FAILED)).isFalse();
    }

    /** Issue 28 #4: a failed change of metadata alone reopens a COMPLETED older than it, and only that. */
    @Test
    void aFailedChangeOfMetadataAloneReplacesAnOlderCompleted() {
        java.time.Instant copied = java.time.Instant.parse("2026-12-07T00:00:00Z");
        java.time.Instant later = copied.plusSeconds(5);
        assertThat(StatusMerge.nextSiteStatus(COMPLETED, copied, FAILED, later, true)).isEqualTo(FAILED);
        assertThat(StatusMerge.nextSiteStatus(COMPLETED, null, FAILED, later, true)).as("a COMPLETED of unknown time").isEqualTo(FAILED);
        assertThat(StatusMerge.nextSiteStatus(COMPLETED, later, FAILED, copied, true)).as("an older failure replayed").isEqualTo(COMPLETED);
        assertThat(StatusMerge.nextSiteStatus(COMPLETED, copied, FAILED, later, false)).as("a copy's failure").isEqualTo(COMPLETED);
        assertThat(StatusMerge.nextSiteStatus(SKIPPED, copied, FAILED, later, true)).isEqualTo(SKIPPED);
        assertThat(StatusMerge.nextSiteStatus(PENDING, copied, FAILED, later, true)).isEqualTo(FAILED);
    }

    @Test
    void anOperatorsRequeueReopensAnyStatusAndItsOutcomeCounts() {
        assertThat(StatusMerge.nextSiteStatus(FAILED, PENDING)).as("a retry").isEqualTo(PENDING);
        assertThat(StatusMerge.nextSiteStatus(SKIPPED, PENDING)).as("a forced retry of a skipped version").isEqualTo(PENDING);
        assertThat(StatusMerge.nextSiteStatus(COMPLETED, PENDING)).as("verify's repair of a lost replica").isEqualTo(PENDING);
        assertThat(StatusMerge.nextSiteStatus(SKIPPED, COMPLETED)).as("a skipped version copied after all").isEqualTo(COMPLETED);
    }

    @Test
    void anOutcomeReportedAgainAppliesAgain() {
        for (ReplicationStatus s : new ReplicationStatus[]{COMPLETED, FAILED, SKIPPED, PENDING}) {
            assertThat(StatusMerge.replaceable(s)).as(s.name()).contains(s);
        }
    }

    @Test
    void overallFollowsBackbeatsRules() {
        assertThat(StatusMerge.overall(sites(COMPLETED, COMPLETED))).isEqualTo(COMPLETED);
        assertThat(StatusMerge.overall(sites(COMPLETED, FAILED))).isEqualTo(FAILED);
        assertThat(StatusMerge.overall(sites(FAILED, PENDING))).isEqualTo(FAILED);
        assertThat(StatusMerge.overall(sites(COMPLETED, PENDING))).isEqualTo(PROCESSING);
        assertThat(StatusMerge.overall(sites(PENDING, PENDING))).isEqualTo(PENDING);
        assertThat(StatusMerge.overall(Map.of())).isEqualTo(PENDING);
    }

    private static Map<String, ReplicationStatus> sites(ReplicationStatus a, ReplicationStatus b) {
        Map<String, ReplicationStatus> m = new LinkedHashMap<>();
        m.put("site-a", a);
        m.put("site-b", b);
        return m;
    }
}
