package io.backbeatserverless.core.status;

import java.util.Locale;

/**
 * Backbeat's replication status words, as CloudServer stores them and HEAD returns them, plus
 * {@code SKIPPED}: a site outcome of ours (never written to a source object) for a version that will
 * not be replicated and need not be, because it is gone from the source, is itself a replica, or a
 * newer version of the object is already at the site. Backbeat drops such entries silently; we
 * record them so no version stays PENDING without a reason.
 */
public enum ReplicationStatus {
    PENDING, PROCESSING, COMPLETED, FAILED, REPLICA, SKIPPED;

    /** COMPLETED and SKIPPED are final: no replicator outcome changes them (only an operator's re-queue does, see {@link StatusMerge}). */
    public boolean isFinal() {
        return this == COMPLETED || this == SKIPPED;
    }

    public static ReplicationStatus parse(String word) {
        if (word == null || word.isBlank()) {
            throw new IllegalArgumentException("empty replication status");
        }
        try {
            return valueOf(word.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown replication status '" + word + "'", e);
        }
    }
}
