package io.backbeatserverless.replicator;

import io.backbeatserverless.core.retry.Retrier;
import io.backbeatserverless.core.retry.RetryPolicy;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetrierTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-25T10:00:00Z"));
    private final List<Duration> waits = new ArrayList<>();
    private final Retrier retrier = new Retrier(new RetryPolicy(5, Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(300)),
            clock, d -> {
        waits.add(d);
        clock.advance(d);
    }, new SplittableRandom(7), ReplicationErrors::isRetryable);

    @Test
    void retriesRetryableFailuresAndCountsTheAttempts() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Retrier.Budget budget = retrier.newBudget();

        String result = retrier.call(budget, () -> {
            if (calls.incrementAndGet() < 3) {
                throw s3(503, "SlowDown");
            }
            return "ok";
        });

        assertThat(result).isEqualTo("ok");
        assertThat(budget.attempts()).isEqualTo(3);
        assertThat(waits).hasSize(2).allSatisfy(w -> assertThat(w).isBetween(Duration.ZERO, Duration.ofSeconds(1)));
    }

    @Test
    void givesUpAfterFiveAttemptsAndNeverRetriesPermanentFailures() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> retrier.call(retrier.newBudget(), () -> {
            calls.incrementAndGet();
            throw s3(500, "InternalError");
        })).isInstanceOf(S3Exception.class);
        assertThat(calls).hasValue(5);

        calls.set(0);
        assertThatThrownBy(() -> retrier.call(retrier.newBudget(), () -> {
            calls.incrementAndGet();
            throw s3(403, "AccessDenied");
        })).isInstanceOf(S3Exception.class);
        assertThat(calls).hasValue(1);
    }

    @Test
    void stopsAtTheEntrysDeadline() {
        Retrier.Budget budget = retrier.newBudget();
        clock.advance(Duration.ofSeconds(300));
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> retrier.call(budget, () -> {
            calls.incrementAndGet();
            throw s3(503, "SlowDown");
        })).isInstanceOf(S3Exception.class);
        assertThat(calls).hasValue(1);
    }

    @Test
    void aRetryThatWouldStartPastTheSetAsideTimeIsNotWaitedForAndTheVersionIsSetAside() {
        Retrier.Budget budget = retrier.newBudget(clock.instant().plusSeconds(5));
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> retrier.call(budget, () -> {
            calls.incrementAndGet();
            clock.advance(Duration.ofSeconds(3)); // each attempt held 3 s (a request timed out)
            throw s3(503, "SlowDown");
        })).isInstanceOf(Retrier.SetAside.class).hasMessageContaining("SlowDown").hasCauseInstanceOf(S3Exception.class);
        // 3 s, a wait of at most 0.5 s, 3 s more: the third would start past 5 s
        assertThat(calls).hasValue(2);
        assertThat(budget.attempts()).isEqualTo(2);
    }

    @Test
    void aSetAsideAnywhereInTheCauseChainIsAnOutcomeSetAsideNotAFailure() {
        Retrier.SetAside setAside = org.assertj.core.api.Assertions.catchThrowableOfType(Retrier.SetAside.class,
                () -> retrier.call(retrier.newBudget(clock.instant()), () -> {
                    throw s3(503, "SlowDown");
                }));
        ReplicationOutcome outcome = ReplicationOutcome.of(new IllegalStateException("a part failed", setAside), 1);
        assertThat(outcome.setAside()).isTrue();
        assertThat(outcome.isDeferred()).isTrue();
        assertThat(outcome.reason()).isEqualTo("set aside after 1 attempt(s) in 0.0 s: SlowDown (HTTP 503): SlowDown");
    }

    @Test
    void aSetAsideWithinAnotherCallIsNotRetriedByIt() {
        Retrier.Budget inner = retrier.newBudget(clock.instant());
        AtomicInteger outerCalls = new AtomicInteger();
        assertThatThrownBy(() -> retrier.call(retrier.newBudget(), () -> {
            outerCalls.incrementAndGet();
            return retrier.call(inner, () -> {
                throw s3(503, "SlowDown");
            });
        })).isInstanceOf(Retrier.SetAside.class);
        assertThat(outerCalls).hasValue(1);
    }

    @Test
    void theAttemptUnderWayIsKnownOnItsThreadForItsTimeLimit() throws Exception {
        List<Integer> attempts = new ArrayList<>();
        retrier.call(retrier.newBudget(), () -> {
            attempts.add(Retrier.attemptOnThisThread());
            if (attempts.size() < 3) {
                throw s3(503, "SlowDown");
            }
            return null;
        });
        assertThat(attempts).containsExactly(1, 2, 3);
        assertThat(Retrier.attemptOnThisThread()).as("outside a call").isEqualTo(1);
    }

    private static S3Exception s3(int status, String code) {
        return (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(code).build()).build();
    }

    private static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
