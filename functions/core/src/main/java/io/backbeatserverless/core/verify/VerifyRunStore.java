package io.backbeatserverless.core.verify;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where verify runs and their findings are kept (a DynamoDB table), so a run survives the process that
 * walks it: a worker holds a run by a lease, saves it after every step, and another worker takes it up
 * where it stopped once the lease has lapsed.
 */
public interface VerifyRunStore {

    void create(VerifyRun run);

    Optional<VerifyRun> find(String id);

    /** The most recent runs first. */
    List<VerifyRun> recent(int limit);

    /** Takes (or renews) the run's lease for {@code owner}; false while another worker holds it. */
    boolean claim(String id, String owner, Instant now, Duration lease);

    /** Saves the run's state; throws {@link LeaseLostException} if {@code owner} no longer holds its lease. */
    void save(VerifyRun run, String owner);

    /** Stops a run that has not finished; false if there is no such run or it had finished. */
    boolean cancel(String id, Instant now);

    /** Stores findings; storing the same finding again (a step done again after a crash) keeps one. */
    void addFindings(String runId, List<Finding> findings);

    /** A page of a run's findings in site and key order, for {@code site} only when given. */
    FindingsPage findings(String runId, String site, String marker, int limit);

    record FindingsPage(List<Finding> findings, String nextMarker) {
    }

    final class LeaseLostException extends RuntimeException {
        public LeaseLostException(String message) {
            super(message);
        }
    }
}
