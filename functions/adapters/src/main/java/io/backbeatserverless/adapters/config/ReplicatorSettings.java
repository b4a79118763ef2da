package io.backbeatserverless.adapters.config;

import io.backbeatserverless.core.retry.RetryPolicy;

import java.time.Duration;

/**
 * How replicators copy. Defaults follow Backbeat: multipart at 16 MiB with 16 MiB parts (doubled to
 * stay within 1,000 parts), 5 attempts within 300 s per entry.
 *
 * @param multipartThresholdBytes objects of at least this size are copied in parts
 * @param partConcurrency         parts of one object uploaded at once
 * @param resumableUploadHours    how long a multipart copy cut short by a deadline may be resumed (24 h), and how long a
 *                                key's hold (its entries put back at a deadline) keeps its other entries waiting
 * @param requestTimeoutSeconds   the limit of one attempt of a request to the source or the site (20 s), plus, for a
 *                                request with a body, its length at 1 MB/s: shorter than an invocation's stop margin
 *                                (30 s at most), so a hung store cannot hold an invocation past its end
 * @param keyConcurrency          objects of one batch replicated at once (versions of one object stay in order)
 * @param maxAttempts             tries per entry (and per part)
 * @param initialBackoffMs        first retry's backoff ceiling; doubles each retry, with full jitter
 * @param maxBackoffMs            backoff ceiling
 * @param deadlineSeconds         an entry is given up (FAILED) when its retries would end past this
 * @param setAsideAfterSeconds    a version whose next retry would start more than this after its first attempt (5 s) is set
 *                                aside: put back on the topic behind its key's hold, tried again later with the whole retry
 *                                policy, so that one throttled or slow version does not hold up its batch and partition
 *                                (issue 31); a version is set aside once at most; negative: never
 * (Whether a site's ETags are MD5s is the site's: {@link SiteConfig#verifyEtagMd5()}.)
 */
public record ReplicatorSettings(long multipartThresholdBytes, int partConcurrency, int keyConcurrency,
                                 int maxAttempts, long initialBackoffMs, long maxBackoffMs, long deadlineSeconds,
                                 long resumableUploadHours, long requestTimeoutSeconds, long setAsideAfterSeconds) {

    public static final long MIB = 1024L * 1024L;
    public static final ReplicatorSettings DEFAULTS = new ReplicatorSettings(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);


    public ReplicatorSettings {
        multipartThresholdBytes = multipartThresholdBytes <= 0 ? 16 * MIB : multipartThresholdBytes;
        partConcurrency = partConcurrency <= 0 ? 4 : partConcurrency;
        keyConcurrency = keyConcurrency <= 0 ? 16 : keyConcurrency;
        maxAttempts = maxAttempts <= 0 ? RetryPolicy.BACKBEAT_DEFAULTS.maxAttempts() : maxAttempts;
        initialBackoffMs = initialBackoffMs <= 0 ? RetryPolicy.BACKBEAT_DEFAULTS.initialBackoff().toMillis() : initialBackoffMs;
        maxBackoffMs = maxBackoffMs <= 0 ? RetryPolicy.BACKBEAT_DEFAULTS.maxBackoff().toMillis() : maxBackoffMs;
        deadlineSeconds = deadlineSeconds <= 0 ? RetryPolicy.BACKBEAT_DEFAULTS.deadline().toSeconds() : deadlineSeconds;
        resumableUploadHours = resumableUploadHours <= 0 ? 24 : resumableUploadHours;
        requestTimeoutSeconds = requestTimeoutSeconds <= 0 ? 20 : requestTimeoutSeconds;
        setAsideAfterSeconds = setAsideAfterSeconds == 0 ? 5 : setAsideAfterSeconds;
    }

    /** How long a version's retries may go on before it is set aside; null: never set aside. */
    public Duration setAsideAfter() {
        return setAsideAfterSeconds < 0 ? null : Duration.ofSeconds(setAsideAfterSeconds);
    }

    /**
     * How long a copy cut short by a deadline may be resumed: after that its multipart upload is aborted and the copy
     * starts over (a destination bucket's AbortIncompleteMultipartUpload lifecycle rule should allow at least this).
     */
    /** Each request's time limit ({@code requestTimeoutSeconds}; bodies at 1 MB/s at least). */
    public io.backbeatserverless.adapters.aws.RequestTimeouts requestTimeouts() {
        return new io.backbeatserverless.adapters.aws.RequestTimeouts(Duration.ofSeconds(requestTimeoutSeconds), 1_000_000);
    }

    public Duration resumableUploadTtl() {
        return Duration.ofHours(resumableUploadHours);
    }

    public RetryPolicy retryPolicy() {
        return new RetryPolicy(maxAttempts, Duration.ofMillis(initialBackoffMs), Duration.ofMillis(maxBackoffMs),
                Duration.ofSeconds(deadlineSeconds));
    }
}
