package io.backbeatserverless.verifier;

import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.core.verify.VerifyRunStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/**
 * Takes up unfinished verify runs and walks them, a step at a time, within a time budget (a Lambda
 * invocation's remaining time; a local thread's slice). A run is held by a lease renewed at every step and
 * saved after every step, findings first: a worker that dies leaves the run to the next one once its lease
 * lapses, which resumes after the last saved step (that step's findings written again, replacing themselves).
 */
public final class VerifyWorker {

    private static final Logger LOG = LoggerFactory.getLogger(VerifyWorker.class);
    /** How long a run stays held without a step: longer than a step takes, short enough to take up a dead worker's run soon. */
    static final Duration LEASE = Duration.ofMinutes(2);

    private final VerifyRunStore runs;
    private final VerifyEngine engine;
    private final String owner;
    private final Clock clock;

    public VerifyWorker(VerifyRunStore runs, VerifyEngine engine, String owner, Clock clock) {
        this.runs = runs;
        this.engine = engine;
        this.owner = owner;
        this.clock = clock;
    }

    /** Works on unfinished runs, oldest first, until none is left or {@code budget} is spent; returns the steps taken. */
    public int work(Duration budget) {
        Instant deadline = clock.instant().plus(budget);
        int steps = 0;
        List<VerifyRun> open = runs.recent(100).stream().filter(r -> !r.phase().finished())
                .sorted(Comparator.comparing(VerifyRun::createdAt)).toList();
        for (VerifyRun candidate : open) {
            if (!clock.instant().isBefore(deadline)) {
                break;
            }
            if (!runs.claim(candidate.id(), owner, clock.instant(), LEASE)) {
                continue; // another worker has it
            }
            VerifyRun run = runs.find(candidate.id()).orElse(candidate);
            try {
                while (!run.phase().finished() && clock.instant().isBefore(deadline)) {
                    VerifyEngine.Step step = engine.step(run);
                    runs.addFindings(run.id(), step.findings());
                    runs.save(step.run(), owner);
                    run = step.run();
                    steps++;
                    if (run.phase().finished()) {
                        LOG.info("verify {} {}: {} versions walked, {} findings{}", run.id(), run.phase(), run.scanned(), run.findings(),
                                run.clean() ? ", nothing lost" : "");
                    } else if (!runs.claim(run.id(), owner, clock.instant(), LEASE)) {
                        break;
                    }
                }
            } catch (VerifyRunStore.LeaseLostException e) {
                LOG.info("verify {}: {}", run.id(), e.getMessage());
            } catch (RuntimeException e) {
                // A step that fails is not saved: the run resumes at its last step when its lease lapses (a source or
                // site that is down is tried again then). The error is kept on the run for the operator to see.
                LOG.warn("verify {}: step failed, will be tried again: {}", run.id(), e.toString());
                try {
                    runs.save(withError(run, e), owner);
                } catch (RuntimeException ignored) {
                    // the run keeps its last saved state
                }
                break;
            }
        }
        return steps;
    }

    private VerifyRun withError(VerifyRun run, RuntimeException e) {
        return new VerifyRun(run.id(), run.request(), run.phase(), run.createdAt(), clock.instant(), null, run.buckets(), run.bucketIndex(),
                run.afterKey(), run.totalVersions(), run.scanned(), run.keys(), run.bySite(), run.findings(), run.problems(),
                "last step failed (it is tried again): " + e.getMessage(), run.byInventory(), run.inventory());
    }
}
