package io.backbeatserverless.replicator;

import org.slf4j.LoggerFactory;

import io.backbeatserverless.core.status.ReplicationStatus;

/**
 * What happened to one version at one site.
 *
 * @param reason   why it failed or was skipped; null when COMPLETED
 * @param attempts tries made
 * @param bytes    bytes written to the site
 * @param retryable FAILED for a transient cause ({@link ReplicationErrors.Kind#RETRYABLE}): retried on its own later
 * @param setAside  PENDING because its retries were not waited for ({@link #setAside}), not for the invocation's deadline
 */
public record ReplicationOutcome(ReplicationStatus status, String reason, int attempts, long bytes, boolean retryable, boolean setAside) {

    public ReplicationOutcome(ReplicationStatus status, String reason, int attempts, long bytes) {
        this(status, reason, attempts, bytes, false, false);
    }

    public static ReplicationOutcome completed(int attempts, long bytes) {
        return new ReplicationOutcome(ReplicationStatus.COMPLETED, null, attempts, bytes);
    }

    /** The version will not be replicated and need not be: {@code reason} says why (source version gone, a replica, superseded). */
    public static ReplicationOutcome skipped(String reason, int attempts) {
        return new ReplicationOutcome(ReplicationStatus.SKIPPED, reason, attempts, 0);
    }

    /** The outcome of an entry whose replication threw {@code failure} after {@code attempts} attempts. */
    public static ReplicationOutcome of(Exception failure, int attempts) {
        io.backbeatserverless.core.retry.Retrier.SetAside setAside = ReplicationErrors.setAside(failure);
        if (setAside != null) {
            return setAside(String.format(java.util.Locale.ROOT, "after %d attempt(s) in %.1f s: %s", attempts,
                    setAside.elapsed().toMillis() / 1000.0, ReplicationErrors.describe(setAside.getCause())), attempts);
        }
        if (failure instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return failed("interrupted", attempts);
        }
        if (ReplicationErrors.isInternal(failure)) {
            // A bug: still an outcome (the version is FAILED, visible and retryable), and its stack trace in the log.
            LoggerFactory.getLogger(ReplicationOutcome.class).error("internal error while replicating", failure);
            return failed("internal error: " + ReplicationErrors.describe(failure), attempts);
        }
        String reason = ReplicationErrors.describe(failure);
        return switch (ReplicationErrors.classify(failure)) {
            case SOURCE_GONE -> skipped("source version unavailable: " + reason, attempts);
            case RETRYABLE -> new ReplicationOutcome(ReplicationStatus.FAILED, "gave up after " + attempts + " attempts: " + reason, attempts,
                    0, true, false);
            case PERMANENT -> failed(reason, attempts);
        };
    }

    /** The site cannot be written to because no bucket is known for the version. */
    public static ReplicationOutcome noBucket(String site) {
        return failed("site '" + site + "' has no bucket and the rule names no Destination.Bucket", 1);
    }

    /**
     * Not finished before the invocation's deadline: a resumable copy saved its progress (or the entry was not started),
     * and the entry goes back on the topic for the next invocation. Its status stays PENDING; {@code reason} says how far.
     */
    public static ReplicationOutcome deferred(String reason, int attempts, long bytes) {
        return new ReplicationOutcome(ReplicationStatus.PENDING, reason, attempts, bytes);
    }

    /**
     * Set aside: a retry would have started past the version's set-aside time, so it goes back on the topic (its status stays
     * PENDING) behind its key's hold, to be tried again with the full retry budget, and its batch does not wait for it.
     */
    public static ReplicationOutcome setAside(String reason, int attempts) {
        return new ReplicationOutcome(ReplicationStatus.PENDING, "set aside " + reason, attempts, 0, false, true);
    }

    public boolean isDeferred() {
        return status == ReplicationStatus.PENDING;
    }

    public static ReplicationOutcome failed(String reason, int attempts) {
        return new ReplicationOutcome(ReplicationStatus.FAILED, reason, attempts, 0);
    }
}
