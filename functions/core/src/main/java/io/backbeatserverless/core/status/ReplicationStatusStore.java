package io.backbeatserverless.core.status;

import io.backbeatserverless.core.entry.StatusEntry;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Per-version, per-site replication status for sources that cannot hold it in their own metadata
 * (what CloudServer keeps in {@code replicationInfo}). The DynamoDB adapter implements it.
 */
public interface ReplicationStatusStore {

    /** A version about to be queued for {@code sites}. */
    record QueuedVersion(VersionRef version, long size, String lastModified, Collection<String> sites, boolean deleteMarker) {
        public QueuedVersion(VersionRef version, long size, String lastModified, Collection<String> sites) {
            this(version, size, lastModified, sites, false);
        }
    }

    /**
     * Records, before they are published, that these versions are queued: each one's record is written whole, PENDING
     * at each of its sites, stamped with the store's clock, in batches (no round trip per version, no condition). Only
     * for versions with no record yet, published right after: an outcome overwritten here (a version an operator
     * re-queued meanwhile) is reported again by that publication.
     */
    void recordQueued(List<QueuedVersion> versions);

    /**
     * Applies one site's reported outcome (or an operator's re-queue, PENDING) under {@link StatusMerge}'s
     * rules, and says what happened: the site's status before (null if none) and after, and whether the
     * outcome was applied (an outcome reported again over itself is applied again).
     */
    default Transition recordOutcome(StatusEntry outcome) {
        return recordOutcome(outcome, null);
    }

    /**
     * As {@link #recordOutcome(StatusEntry)}, for an outcome read at {@code position} of the status topic
     * ({@code <topic>-<partition>@<offset>}), which the store keeps with the site's status.
     */
    Transition recordOutcome(StatusEntry outcome, String position);

    /**
     * A site's status before and after an outcome was reported.
     *
     * @param applied the outcome is now the site's
     * @param again   the status the outcome replaced was written by this same record (a batch delivered again)
     */
    record Transition(ReplicationStatus before, ReplicationStatus after, boolean applied, boolean again) {
        public Transition(ReplicationStatus before, ReplicationStatus after, boolean applied) {
            this(before, after, applied, false);
        }

        public boolean changed() {
            return before != after;
        }
    }

    Optional<VersionStatus> find(VersionRef version);

    /** Every recorded version of one object. */
    List<VersionStatus> findVersions(String bucket, String objectKey);

    /** The recorded status of each of {@code versions} that has one. */
    java.util.Map<VersionRef, VersionStatus> findAll(Collection<VersionRef> versions);

    /** Which of {@code versions} have been recorded at all (queued or reported). */
    Set<VersionRef> recorded(Collection<VersionRef> versions);
}
