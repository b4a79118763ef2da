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
