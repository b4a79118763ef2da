package io.backbeatserverless.core.metadata;

/**
 * What a replica at an S3 site carries in its user metadata, Backbeat's markers and ours: written by the
 * replicator, read by it (a replay finds its version there) and by verify (whose replica it is).
 */
public final class ReplicaMarkers {

    /** {@code REPLICA} on every replica: replicas are never replicated again. */
    public static final String REPLICA_STATUS = "scal-replication-status";
    /** The source version id the replica holds. */
    public static final String SOURCE_VERSION = "scal-version-id";
    /** When the source version was written: an older version never overwrites a newer one at the site. */
    public static final String SOURCE_LAST_MODIFIED = "scal-source-last-modified";

    private ReplicaMarkers() {
    }
}
