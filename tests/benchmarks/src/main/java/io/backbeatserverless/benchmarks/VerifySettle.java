package io.backbeatserverless.benchmarks;

import io.backbeatserverless.core.verify.VerifyRequest;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.localstack.EmbeddedStack;

import java.time.Duration;
import java.util.List;

/** Verify as the end-of-run oracle: run it until it finds every version in place, or the time runs out. */
final class VerifySettle {

    private VerifySettle() {
    }

    /** Verify until it finds every version in place (clean, nothing in flight) or {@code within} runs out; the last run. */
    static VerifyRun settle(EmbeddedStack stack, String bucket, List<String> sites, Duration within) throws InterruptedException {
        return settle(stack, bucket, sites, within, run -> run.clean() && run.total().inFlight() == 0);
    }

    /** Verify until {@code settled} says so of a run, or {@code within} runs out; the last run. */
    static VerifyRun settle(EmbeddedStack stack, String bucket, List<String> sites, Duration within,
                            java.util.function.Predicate<VerifyRun> settled) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        VerifyRun run = null;
        do {
            try {
                String id = stack.ops().service().startVerify(new VerifyRequest(bucket, sites, null, false, within)).id();
                do {
                    Thread.sleep(500);
                    run = stack.ops().service().verifyRun(id);
                } while (!run.phase().finished());
            } catch (RuntimeException e) {
                // The ops API's own store may be down (a DynamoDB outage the run injected): ask again.
                System.out.printf("verify could not run: %s%n", e);
                Thread.sleep(3_000);
                continue;
            }
            System.out.printf("verify %s: %s%n", run.id(), run.bySite());
            if (settled.test(run)) {
                return run;
            }
            Thread.sleep(3_000);
        } while (System.nanoTime() < deadline);
        if (run == null) {
            throw new IllegalStateException("verify never ran within " + within);
        }
        return run;
    }
}
