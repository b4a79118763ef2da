package io.backbeatserverless.core.retry;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Retries with exponential backoff and full jitter under an overall deadline, the one retry policy
 * of the project: attempt {@code n} (1-based) failing with a retryable error is followed by a wait
 * drawn uniformly from {@code [0, min(maxBackoff, initialBackoff * 2^(n-1))]}, as long as fewer than
 * {@code maxAttempts} were made and the wait ends before the deadline. Defaults follow Backbeat's
 * queue processor: 5 attempts within 300 s.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration deadline) {

    public static final RetryPolicy BACKBEAT_DEFAULTS =
            new RetryPolicy(5, Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(300));

    /**
     * For loops that must never give up (a batch the event source delivers again, a feed batch the populator
     * reads again): every attempt waits, from {@code initial} doubling to {@code max}, with full jitter.
     */
    public static RetryPolicy forever(Duration initial, Duration max) {
        return new RetryPolicy(Integer.MAX_VALUE, initial, max, Duration.ofDays(365_000));
    }

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        if (initialBackoff.isNegative() || maxBackoff.isNegative() || deadline.isNegative()) {
            throw new IllegalArgumentException("backoffs and deadline must not be negative");
        }
    }

    /**
     * How long to wait before the next attempt, or null to give up.
     *
     * @param attemptsMade attempts already made (at least 1)
     * @param elapsed      time since the first attempt started
     */
    /** Successive waits of this policy, for a loop that retries by itself (nothing to classify: it always retries). */
    public Backoff backoff(java.time.Clock clock) {
        return new Backoff(this, clock, jitterSource());
    }

    /**
     * Where jitter comes from: the system's entropy ({@link java.security.SecureRandom}), not a generator seeded once per
     * JVM (RandomGenerator.getDefault()'s seeds come from a static seeder): the environments SnapStart resumes from one
     * snapshot would otherwise jitter alike and retry together, which jitter exists to prevent (issue 33).
     */
    public static RandomGenerator jitterSource() {
        return new java.security.SecureRandom();
    }

    /** The waits between the attempts of one loop; {@link #reset} after a success starts over. */
    public static final class Backoff {
        private final RetryPolicy policy;
        private final java.time.Clock clock;
        private final RandomGenerator random;
        private int failures;
        private java.time.Instant firstFailure;

        Backoff(RetryPolicy policy, java.time.Clock clock, RandomGenerator random) {
            this.policy = policy;
            this.clock = clock;
            this.random = random;
        }

        /** The wait after one more failure, or null when the policy gives up. */
        public Duration next() {
            if (failures++ == 0) {
                firstFailure = clock.instant();
            }
            return policy.nextDelay(failures, Duration.between(firstFailure, clock.instant()), random);
        }

        public int failures() {
            return failures;
        }

        public void reset() {
            failures = 0;
            firstFailure = null;
        }
    }

    public Duration nextDelay(int attemptsMade, Duration elapsed, RandomGenerator random) {
        if (attemptsMade >= maxAttempts) {
            return null;
        }
        long ceiling = initialBackoff.toMillis() << Math.min(30, attemptsMade - 1);
        ceiling = Math.min(ceiling, maxBackoff.toMillis());
        long delay = ceiling <= 0 ? 0 : random.nextLong(ceiling + 1);
        if (elapsed.plusMillis(delay).compareTo(deadline) >= 0) {
            return null;
        }
        return Duration.ofMillis(delay);
    }
}
