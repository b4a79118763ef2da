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

    /** Records that a version was queued for {@code sites}; a site that already has a status keeps it. */
    void recordQueued(VersionRef version, long size, String lastModified, Collection<String> sites);

    /**
     * Applies one site's reported outcome under {@link StatusMerge}'s rules (a COMPLETED site stays
     * COMPLETED) and says what changed: the site's status before (null if none) and after.
     */
    Transition recordOutcome(StatusEntry outcome);

    /** A site's status before and after an outcome was applied. */
    record Transition(ReplicationStatus before, ReplicationStatus after) {
        public boolean changed() {
            return before != after;
        }
    }

    Optional<VersionStatus> find(VersionRef version);

    /** Every recorded version of one object. */
    List<VersionStatus> findVersions(String bucket, String objectKey);

    /** Which of {@code versions} have been recorded at all (queued or reported). */
    Set<VersionRef> recorded(Collection<VersionRef> versions);
}
