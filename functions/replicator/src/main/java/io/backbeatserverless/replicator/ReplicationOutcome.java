package io.backbeatserverless.replicator;

import io.backbeatserverless.core.status.ReplicationStatus;

/**
 * What happened to one version at one site.
 *
 * @param reason   why it failed; null when COMPLETED
 * @param attempts tries made
 * @param bytes    bytes written to the site
 */
public record ReplicationOutcome(ReplicationStatus status, String reason, int attempts, long bytes) {

    public static ReplicationOutcome completed(int attempts, long bytes) {
        return new ReplicationOutcome(ReplicationStatus.COMPLETED, null, attempts, bytes);
    }

    public static ReplicationOutcome failed(String reason, int attempts) {
        return new ReplicationOutcome(ReplicationStatus.FAILED, reason, attempts, 0);
    }
}
