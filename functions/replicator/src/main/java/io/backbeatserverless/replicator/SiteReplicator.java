package io.backbeatserverless.replicator;

import io.backbeatserverless.core.entry.ReplicationEntry;

/** Writes object versions to one kind of destination site. One class per kind of site. */
public interface SiteReplicator extends AutoCloseable {

    /** Replicates one version; never throws for a failure of that version, which is reported in the outcome. */
    ReplicationOutcome replicate(ReplicationEntry entry);

    @Override
    default void close() {
    }
}
