package io.backbeatserverless.core.status;

import io.backbeatserverless.core.entry.StatusEntry;

/**
 * Writes a site's new status back to the source version's own metadata, for sources that keep it
 * (CloudServer: {@code replicationInfo}, shown by HEAD as {@code x-amz-replication-status}).
 */
public interface SourceStatusWriter {

    void write(StatusEntry outcome, ReplicationStatus siteStatus) throws Exception;

    /** Sources that cannot hold status: the status table is the record. */
    SourceStatusWriter NONE = (outcome, status) -> {
    };
}
