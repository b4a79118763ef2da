package io.backbeatserverless.core.retry;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {

    private final RetryPolicy policy = new RetryPolicy(5, Duration.ofMillis(500), Duration.ofSeconds(4), Duration.ofSeconds(300));

    @Test
    void backsOffExponentiallyWithJitterUpToTheCeiling() {
        RandomGenerator random = new SplittableRandom(42);
        for (int i = 0; i < 200; i++) {
            assertThat(policy.nextDelay(1, Duration.ZERO, random)).isBetween(Duration.ZERO, Duration.ofMillis(500));
            assertThat(policy.nextDelay(3, Duration.ZERO, random)).isBetween(Duration.ZERO, Duration.ofMillis(2000));
            assertThat(policy.nextDelay(4, Duration.ZERO, random)).isBetween(Duration.ZERO, Duration.ofMillis(4000));
        }
        RandomGenerator max = maxRandom();
        assertThat(policy.nextDelay(2, Duration.ZERO, max)).isEqualTo(Duration.ofMillis(1000));
        assertThat(policy.nextDelay(4, Duration.ZERO, max)).as("capped").isEqualTo(Duration.ofMillis(4000));
    }

    @Test
    void givesUpAfterMaxAttemptsOrPastTheDeadline() {
        assertThat(policy.nextDelay(5, Duration.ZERO, maxRandom())).isNull();
        assertThat(policy.nextDelay(2, Duration.ofSeconds(299), maxRandom())).as("the wait would end past 300 s").isNull();
        assertThat(policy.nextDelay(2, Duration.ofSeconds(298), maxRandom())).isEqualTo(Duration.ofMillis(1000));
        assertThat(new RetryPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1)).nextDelay(1, Duration.ZERO, maxRandom())).isNull();
    }

    /** Always draws the top of the range, so the ceiling itself is asserted. */
    private static RandomGenerator maxRandom() {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return Long.MAX_VALUE;
            }

            @Override
            public long nextLong(long bound) {
                return bound - 1;
            }
        };
    }
}
