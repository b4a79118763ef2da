package io.backbeatserverless.replicator;

import io.backbeatserverless.core.entry.ReplicationEntry;

/** Writes object versions to one kind of destination site. One class per kind of site. */
public interface SiteReplicator extends AutoCloseable {

    /** Replicates one version; never throws for a failure of that version, which is reported in the outcome. */
    ReplicationOutcome replicate(ReplicationEntry entry);

    /**
     * Replicates one version, stopping a long copy that cannot finish by {@code deadline} (null: none) with a
     * {@link ReplicationOutcome#deferred} outcome once its progress is saved, when this kind of site can resume one.
     */
    default ReplicationOutcome replicate(ReplicationEntry entry, java.time.Instant deadline) {
        return replicate(entry);
    }

    /**
     * As {@link #replicate(ReplicationEntry, java.time.Instant)}, and a retry that would start past {@code setAsideAt} (null:
     * none) is not waited for: the outcome is {@linkplain ReplicationOutcome#setAside set aside}, for the entry to be put back
     * behind its key's hold and tried again later (issue 31: a slow or throttled version must not hold up its batch).
     */
    default ReplicationOutcome replicate(ReplicationEntry entry, java.time.Instant deadline, java.time.Instant setAsideAt) {
        return replicate(entry, deadline);
    }

    /** The entry's version id as the source's S3 API spells it (what a copy in progress records). */
    default String sourceVersion(ReplicationEntry entry) {
        return entry.versionId();
    }

    @Override
    default void close() {
    }
}
