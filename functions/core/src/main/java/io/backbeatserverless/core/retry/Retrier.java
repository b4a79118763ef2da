package io.backbeatserverless.core.retry;


import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;

/**
 * Runs an operation under the {@link RetryPolicy}, retrying what the caller's error classification calls
 * retryable (the replicator's is {@code ReplicationErrors}). The clock and the sleep are injected so the timing
 * is testable.
 */
public final class Retrier {

    /** Waits between attempts; tests pass one that only advances a clock. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    @FunctionalInterface
    public interface Operation<T> {
        T run() throws Exception;
    }

    /**
     * One entry's retry budget: its deadline counts from {@code started}; {@code retries} counts every retry of its operations;
     * past {@code setAsideAt} (null: never) a retry is not waited for: the entry is {@linkplain SetAside set aside} instead.
     */
    public static final class Budget {
        private final Instant started;
        private final Instant setAsideAt;
        private final AtomicInteger retries = new AtomicInteger();

        public Budget(Instant started) {
            this(started, null);
        }

        public Budget(Instant started, Instant setAsideAt) {
            this.started = started;
            this.setAsideAt = setAsideAt;
        }

        /** Attempts made for the entry: the first plus every retry of any of its operations. */
        public int attempts() {
            return 1 + retries.get();
        }
    }

    private final RetryPolicy policy;
    private final java.util.function.Predicate<Throwable> retryable;
    private final Clock clock;
    private final Sleeper sleeper;
    private final RandomGenerator random;

    public Retrier(RetryPolicy policy, Clock clock, Sleeper sleeper, RandomGenerator random,
                   java.util.function.Predicate<Throwable> retryable) {
        this.retryable = retryable;
        this.policy = policy;
        this.clock = clock;
        this.sleeper = sleeper;
        this.random = random;
    }

    public static Retrier standard(RetryPolicy policy, Clock clock, java.util.function.Predicate<Throwable> retryable) {
        return new Retrier(policy, clock, Thread::sleep, RetryPolicy.jitterSource(), retryable);
    }

    public Budget newBudget() {
        return new Budget(clock.instant());
    }

    /** A budget whose retries are not waited for past {@code setAsideAt} (null: the policy's deadline alone). */
    public Budget newBudget(Instant setAsideAt) {
        return new Budget(clock.instant(), setAsideAt);
    }

    /**
     * Thrown instead of waiting for a retry that would start past the budget's {@code setAsideAt}: the entry is to be put
     * aside and tried again later, so that one slow or throttled version does not hold up the others (issue 31). The cause
     * is the last failure.
     */
    public static final class SetAside extends RuntimeException {
        private final Duration elapsed;

        SetAside(Exception lastFailure, int attempts, Duration elapsed) {
            super("set aside after " + attempts + " attempt(s) in " + elapsed.toMillis() + " ms: " + lastFailure.getMessage(), lastFailure);
            this.elapsed = elapsed;
        }

        /** How long the version's attempts had taken when it was set aside. */
        public Duration elapsed() {
            return elapsed;
        }
    }

    /** The attempt (1-based) of the operation running on this thread under {@link #call}; 1 outside one. */
    public static int attemptOnThisThread() {
        Integer attempt = ATTEMPT.get();
        return attempt == null ? 1 : attempt;
    }

    /**
     * The attempt under way, for what sizes an attempt by its number: the request time limits follow S3's advice to retry a
     * small request after 2 s, then after 4 s ({@code RequestTimeouts}).
     */
    private static final ThreadLocal<Integer> ATTEMPT = new ThreadLocal<>();

    public <T> T call(Budget budget, Operation<T> operation) throws Exception {
        int attempt = 1;
        Integer outer = ATTEMPT.get();
        try {
            while (true) {
                try {
                    ATTEMPT.set(attempt);
                    return operation.run();
                } catch (Exception e) {
                    if (e instanceof SetAside || !retryable.test(e)) {
                        throw e; // an operation within set aside: the whole entry is
                    }
                    Duration elapsed = Duration.between(budget.started, clock.instant());
                    Duration delay = policy.nextDelay(attempt, elapsed, random);
                    if (delay == null) {
                        throw e;
                    }
                    if (budget.setAsideAt != null && clock.instant().plus(delay).isAfter(budget.setAsideAt)) {
                        throw new SetAside(e, attempt, elapsed);
                    }
                    budget.retries.incrementAndGet();
                    sleeper.sleep(delay);
                    attempt++;
                }
            }
        } finally {
            ATTEMPT.set(outer);
        }
    }
}
