package io.backbeatserverless.core.status;

import java.util.Locale;

/** Backbeat's replication status words, as CloudServer stores them and HEAD returns them. */
public enum ReplicationStatus {
    PENDING, PROCESSING, COMPLETED, FAILED, REPLICA;

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
