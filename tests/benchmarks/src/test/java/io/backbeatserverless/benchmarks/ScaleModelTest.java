package io.backbeatserverless.benchmarks;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The scale model's rules, on cases whose answer is known without it. */
class ScaleModelTest {

    private static final ScaleModel.Latency TEN_MS = new ScaleModel.Latency(10, 10.0001);

    private static ScaleModel.Plan plan(double rate, int partitions, int batch, int keyConcurrency, double hotShare, double pauseAt, double pauseSeconds) {
        return new ScaleModel.Plan(rate, 60, partitions, batch, 0, keyConcurrency, hotShare, 1, pauseAt, pauseSeconds, 0, 0, 0,
                TEN_MS, TEN_MS, TEN_MS, 1024, 7);
    }

    @Test
    void belowCapacityEveryWriteIsReplicatedWithinOneCopyAndTheBacklogStaysSmall() {
        // One copy is 30 ms; 4 partitions × 8 keys at once carry ~1,000/s: 200/s is well below.
        ScaleModel.Result result = ScaleModel.run(plan(200, 4, 50, 8, 0, -1, 0));
        assertThat(result.objects()).isCloseTo(12_000, within(500L));
        // One copy, plus at most the invocation already running on the partition when the entry arrived (one copy more).
        assertThat(result.p50Ms()).isBetween(30.0, 60.0);
        assertThat(result.maxMs()).isLessThan(61);
        assertThat(result.maxBacklog()).isLessThan(50);
        assertThat(result.drainedAfterWritesSeconds()).isLessThan(1);
    }

    @Test
    void aKeysVersionsAreCopiedOneAfterTheOtherSoAHotKeyAboveOneOverTheCopyTimeFallsBehindWithoutEnd() {
        // Every write to one key: at most 1 / 30 ms = 33 a second, whatever the concurrency; 50/s falls behind.
        ScaleModel.Result result = ScaleModel.run(plan(50, 4, 500, 64, 1.0, -1, 0));
        assertThat(result.drainedAfterWritesSeconds()).as("60 s of writes at 50/s take 90 s at 33/s").isBetween(25.0, 35.0);
    }

    @Test
    void aPausedSiteKeepsItsWritesAndCatchesUpAfterTheResume() {
        ScaleModel.Result result = ScaleModel.run(plan(100, 2, 100, 16, 0, 10, 20));
        assertThat(result.maxBacklog()).as("20 s of writes at 100/s").isBetween(1_800L, 2_200L);
        assertThat(result.catchUpSeconds()).isGreaterThan(0).isLessThan(10);
        assertThat(result.objects()).isCloseTo(6_000, within(400L));
    }
}
