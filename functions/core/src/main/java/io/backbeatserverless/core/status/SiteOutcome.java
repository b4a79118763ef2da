package io.backbeatserverless.core.status;

/**
 * What is known of one version at one site.
 *
 * @param reason    why it failed, when FAILED
 * @param updatedAt ISO-8601 instant of the last change
 */
public record SiteOutcome(ReplicationStatus status, String reason, int attempts, long bytes, String updatedAt) {

    public static SiteOutcome pending(String at) {
        return new SiteOutcome(ReplicationStatus.PENDING, null, 0, 0, at);
    }
}
