package io.backbeatserverless.replicator;

import io.backbeatserverless.core.status.ReplicationStatus;

/**
 * What happened to one version at one site.
 *
 * @param reason   why it failed or was skipped; null when COMPLETED
 * @param attempts tries made
 * @param bytes    bytes written to the site
 */
public record ReplicationOutcome(ReplicationStatus status, String reason, int attempts, long bytes) {

    public static ReplicationOutcome completed(int attempts, long bytes) {
        return new ReplicationOutcome(ReplicationStatus.COMPLETED, null, attempts, bytes);
    }

    /** The version will not be replicated and need not be: {@code reason} says why (source version gone, a replica, superseded). */
    public static ReplicationOutcome skipped(String reason, int attempts) {
        return new ReplicationOutcome(ReplicationStatus.SKIPPED, reason, attempts, 0);
    }

    public static ReplicationOutcome failed(String reason, int attempts) {
        return new ReplicationOutcome(ReplicationStatus.FAILED, reason, attempts, 0);
    }
}
