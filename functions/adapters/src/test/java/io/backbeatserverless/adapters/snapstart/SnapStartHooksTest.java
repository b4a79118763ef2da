package io.backbeatserverless.adapters.snapstart;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 33: the SnapStart hooks called as Lambda calls them (beforeCheckpoint once, at the snapshot; afterRestore in each
 * environment resumed), on a runtime that records what happens to it.
 */
class SnapStartHooksTest {

    /** A runtime standing for a function's: its number (which build made it), whether it was closed, what primed it. */
    static final class Runtime implements AutoCloseable {
        final int number;
        boolean closed;
        int primed;

        Runtime(int number) {
            this.number = number;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void primingRunsBeforeTheSnapshotAndARestoreBuildsTheRuntimeAgainAndClosesTheSnapshots() throws Exception {
        AtomicInteger builds = new AtomicInteger();
        List<Runtime> made = new ArrayList<>();
        SnapStartHooks<Runtime> hooks = SnapStartHooks.register(() -> {
            Runtime runtime = new Runtime(builds.incrementAndGet());
            made.add(runtime);
            return runtime;
        }, runtime -> runtime.primed++);
        Runtime atInit = hooks.current();
        assertThat(atInit.number).isEqualTo(1);

        hooks.beforeCheckpoint(null);
        assertThat(atInit.primed).as("primed once, the runtime built at initialization").isEqualTo(1);
        assertThat(hooks.current()).as("priming builds nothing").isSameAs(atInit);

        hooks.afterRestore(null);
        Runtime restored = hooks.current();
        assertThat(restored).as("a runtime of this environment's own").isNotSameAs(atInit);
        assertThat(restored.number).isEqualTo(2);
        assertThat(atInit.closed).as("the snapshot's runtime (connections, producer, credentials) is closed").isTrue();
        assertThat(restored.closed).isFalse();
        assertThat(restored.primed).as("priming was for the snapshot only").isZero();
        assertThat(hooks.restores()).isEqualTo(1);
    }

    @Test
    void aRuntimeGivenIsNeverBuiltAgain() {
        Runtime given = new Runtime(7);
        SnapStartHooks<Runtime> hooks = SnapStartHooks.fixed(given);
        assertThat(hooks.current()).isSameAs(given);
    }

    /**
     * Priming prepares each request in full (marshalled, signed, through this project's interceptors) and sends none: a
     * request that went out would fail to connect (its endpoint is a closed port) and fail the priming.
     */
    @Test
    void sdkPrimingPreparesEveryRequestAndSendsNone() {
        assertThat(SdkPriming.prime()).as("requests prepared and stopped before sending").isEqualTo(10);
        assertThat(SdkPriming.prime()).as("again: nothing kept from the first time").isEqualTo(10);
    }
}
