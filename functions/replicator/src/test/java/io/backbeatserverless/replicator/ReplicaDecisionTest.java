package io.backbeatserverless.replicator;

import io.backbeatserverless.replicator.ReplicaDecision.Act;
import io.backbeatserverless.replicator.ReplicaDecision.Action;
import io.backbeatserverless.replicator.ReplicaDecision.Ask;
import io.backbeatserverless.replicator.ReplicaDecision.Facts;
import io.backbeatserverless.replicator.ReplicaDecision.Question;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The S3 site's decision alone: each case of {@link ReplicaDecision}, and that it asks only what the case needs. */
class ReplicaDecisionTest {

    private static final long THRESHOLD = 16L << 20;

    private static ReplicaDecision.Step next(Facts facts) {
        return ReplicaDecision.next(facts, THRESHOLD, false);
    }

    private static Facts version(String siteReplicaOf, boolean markerOnTop) {
        return new Facts("v2", false, false, false, 10, siteReplicaOf, markerOnTop);
    }

    @Test
    void aKeyTheSiteHasNotSeenIsCopiedStreamedServerSideOrInPartsAndAskedNothing() {
        assertThat(next(version(null, false))).isEqualTo(new Act(Action.COPY_STREAMED));
        assertThat(ReplicaDecision.next(version(null, false), THRESHOLD, true)).isEqualTo(new Act(Action.COPY_SERVER_SIDE));
        assertThat(next(new Facts("v2", false, false, false, THRESHOLD, null, false))).isEqualTo(new Act(Action.COPY_IN_PARTS));
    }

    @Test
    void aReplayFindsItsReplicaOnTopAndATagChangeReTagsIt() {
        assertThat(next(version("v2", false))).isEqualTo(new Act(Action.ALREADY_THERE));
        assertThat(next(new Facts("v2", false, true, false, 10, "v2", false))).isEqualTo(new Act(Action.RETAG_LATEST));
        assertThat(next(new Facts("v2", false, false, true, 10, "v2", false))).as("a forced copy asks whether the replica is newer")
                .isEqualTo(new Ask(Question.SITE_REPLICA_NEWER));
    }

    @Test
    void aTagChangeOfAnOlderVersionReTagsItsReplicaBeneathOrFallsBackToTheOrderCheck() {
        Facts tagChange = new Facts("v1", false, true, false, 10, "v2", false);
        assertThat(next(tagChange)).isEqualTo(new Ask(Question.REPLICA_BENEATH));
        assertThat(next(tagChange.withOlderReplica(Optional.of("site-v1")))).isEqualTo(new Act(Action.RETAG_OLDER));
        assertThat(next(tagChange.withOlderReplica(Optional.empty()))).isEqualTo(new Ask(Question.SITE_REPLICA_NEWER));
        assertThat(next(tagChange.withOlderReplica(Optional.empty()).withSiteReplicaNewer(true))).isEqualTo(new Act(Action.SKIP_NEWER_VERSION));
    }

    @Test
    void anOlderVersionNeverGoesOverANewerReplicaAndANewerOneDoes() {
        Facts older = version("v3", false);
        assertThat(next(older)).isEqualTo(new Ask(Question.SITE_REPLICA_NEWER));
        assertThat(next(older.withSiteReplicaNewer(true))).as("is it there beneath?").isEqualTo(new Ask(Question.REPLICA_BENEATH));
        assertThat(next(older.withSiteReplicaNewer(true).withOlderReplica(Optional.empty()))).isEqualTo(new Act(Action.SKIP_NEWER_VERSION));
        assertThat(next(older.withSiteReplicaNewer(false))).isEqualTo(new Act(Action.COPY_STREAMED));
        Facts olderMarker = new Facts("m2", true, false, false, 0, "v3", false);
        assertThat(next(olderMarker.withSiteReplicaNewer(true))).as("an older marker too").isEqualTo(new Act(Action.SKIP_NEWER_VERSION));
        assertThat(next(olderMarker.withSiteReplicaNewer(false))).isEqualTo(new Act(Action.REPLICATE_MARKER));
    }

    /** Before: SKIPPED "superseded" while its replica was at the site, beneath the newer one. */
    @Test
    void aSupersededVersionWhoseReplicaIsBeneathTheNewerOneIsThere() {
        Facts replicatedBefore = version("v3", false).withSiteReplicaNewer(true).withOlderReplica(Optional.of("site-v3"));
        assertThat(next(replicatedBefore)).isEqualTo(new Act(Action.ALREADY_THERE));
        Facts forced = new Facts("v3", false, false, true, 10, "v4", false).withSiteReplicaNewer(true);
        assertThat(next(forced)).as("a forced copy is not answered by a replica beneath").isEqualTo(new Act(Action.SKIP_NEWER_VERSION));
    }

    @Test
    void aVersionOrAMarkerUnderMarkersAsksWhetherANewerMarkerIsReplicated() {
        Facts underMarkers = version("v1", true).withSiteReplicaNewer(false);
        assertThat(next(underMarkers)).isEqualTo(new Ask(Question.NEWER_MARKER_REPLICATED));
        assertThat(next(underMarkers.withNewerMarker(Optional.of("m3")))).isEqualTo(new Act(Action.SKIP_NEWER_MARKER));
        assertThat(next(underMarkers.withNewerMarker(Optional.empty()))).isEqualTo(new Act(Action.COPY_STREAMED));
        // Found by the chaos run of a backfill: an older marker arriving after a newer one was replicated went above it.
        Facts markerUnderMarkers = new Facts("m4", true, false, false, 0, null, true);
        assertThat(next(markerUnderMarkers)).isEqualTo(new Ask(Question.NEWER_MARKER_REPLICATED));
        assertThat(next(markerUnderMarkers.withNewerMarker(Optional.of("m5")))).isEqualTo(new Act(Action.SKIP_NEWER_MARKER));
        assertThat(next(markerUnderMarkers.withNewerMarker(Optional.empty()))).isEqualTo(new Act(Action.REPLICATE_MARKER));
        assertThat(next(new Facts("m1", true, false, false, 0, null, false))).as("nothing on top: no question").isEqualTo(new Act(Action.REPLICATE_MARKER));
    }
}
