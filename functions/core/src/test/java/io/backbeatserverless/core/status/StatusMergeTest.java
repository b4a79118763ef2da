package io.backbeatserverless.core.status;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.backbeatserverless.core.status.ReplicationStatus.COMPLETED;
import static io.backbeatserverless.core.status.ReplicationStatus.FAILED;
import static io.backbeatserverless.core.status.ReplicationStatus.PENDING;
import static io.backbeatserverless.core.status.ReplicationStatus.PROCESSING;
import static org.assertj.core.api.Assertions.assertThat;

class StatusMergeTest {

    @Test
    void aSitesCompletedIsFinal() {
        assertThat(StatusMerge.nextSiteStatus(COMPLETED, FAILED)).isEqualTo(COMPLETED);
        assertThat(StatusMerge.nextSiteStatus(COMPLETED, PENDING)).isEqualTo(COMPLETED);
        assertThat(StatusMerge.nextSiteStatus(FAILED, COMPLETED)).isEqualTo(COMPLETED);
        assertThat(StatusMerge.nextSiteStatus(FAILED, PENDING)).as("a retry").isEqualTo(PENDING);
        assertThat(StatusMerge.nextSiteStatus(null, PENDING)).isEqualTo(PENDING);
        assertThat(StatusMerge.changesSite(COMPLETED, FAILED)).isFalse();
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
