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

    /** One entry's retry budget: its deadline counts from {@code started}; {@code retries} counts every retry of its operations. */
    public static final class Budget {
        private final Instant started;
        private final AtomicInteger retries = new AtomicInteger();

        public Budget(Instant started) {
            this.started = started;
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
        return new Retrier(policy, clock, Thread::sleep, RandomGenerator.getDefault(), retryable);
    }

    public Budget newBudget() {
        return new Budget(clock.instant());
    }

    public <T> T call(Budget budget, Operation<T> operation) throws Exception {
        int attempt = 1;
        while (true) {
            try {
                return operation.run();
            } catch (Exception e) {
                if (!retryable.test(e)) {
                    throw e;
                }
                Duration delay = policy.nextDelay(attempt, Duration.between(budget.started, clock.instant()), random);
                if (delay == null) {
                    throw e;
                }
                budget.retries.incrementAndGet();
                sleeper.sleep(delay);
                attempt++;
            }
        }
    }
}
