package io.backbeatserverless.replicator;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The reading of a site's key history (newest first) that decides whether a marker just written sits above a newer version. */
class ReplicaSiteTest {

    private static KeyEntries.Listed marker(String id) {
        return new KeyEntries.Listed(id, true);
    }

    private static KeyEntries.Listed version(String id) {
        return new KeyEntries.Listed(id, false);
    }

    @Test
    void theFirstVersionBelowTheMarkerIsFoundPastOtherMarkers() {
        assertThat(ReplicaSite.firstVersionBelow(List.of(marker("ours"), marker("older"), version("v2"), version("v1")), "ours"))
                .contains("v2");
    }

    @Test
    void entriesWrittenAboveTheMarkerAreNotBelowIt() {
        assertThat(ReplicaSite.firstVersionBelow(List.of(version("v3"), marker("ours"), version("v2")), "ours")).contains("v2");
    }

    @Test
    void nothingBelowOrAMarkerNotListedIsNoVersion() {
        assertThat(ReplicaSite.firstVersionBelow(List.of(marker("ours")), "ours")).isEmpty();
        assertThat(ReplicaSite.firstVersionBelow(List.of(version("v1")), "ours")).isEmpty();
    }
}
