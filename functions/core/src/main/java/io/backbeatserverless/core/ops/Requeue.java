package io.backbeatserverless.core.ops;

import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.ReplicationStatusStore;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Queues versions again for one site each, through the normal path: what an operator's retry and verify's
 * repair both do. In this order, so that a crash anywhere loses nothing and hides nothing:
 * <ol>
 *   <li>the site's status becomes PENDING, whatever it was ({@link io.backbeatserverless.core.status.StatusMerge}):
 *       the outcome of this attempt will then be recorded, even over a COMPLETED or SKIPPED;</li>
 *   <li>the entries are published to the replication topic (a crash before leaves the version PENDING,
 *       which verify reports as stuck once it is old enough);</li>
 *   <li>the failed entry each retry came from is removed, that entry only: if the retry has already failed
 *       again, its new failed entry stays (a crash before leaves the old one listed until it expires, or
 *       is replaced when the retry fails again);</li>
 *   <li>each is counted as queued for its site.</li>
 * </ol>
 */
public final class Requeue {

    /** Where replication entries go (the replication topic). */
    @FunctionalInterface
    public interface ReplicationQueue {
        /** Publishes every entry and returns once all are acknowledged; throws otherwise. */
        void publish(List<ReplicationEntry> entries);
    }

    /**
     * One version to queue again.
     *
     * @param entry    the replication entry, naming {@code site} alone
     * @param replaces the failed entry this retries, if any
     */
    public record Item(ReplicationEntry entry, String site, FailedEntry replaces) {
    }

    private final ReplicationQueue queue;
    private final ReplicationStatusStore statuses;
    private final FailedEntryStore failedEntries;
    private final MetricsStore metrics;
    private final Clock clock;

    public Requeue(ReplicationQueue queue, ReplicationStatusStore statuses, FailedEntryStore failedEntries, MetricsStore metrics,
                   Clock clock) {
        this.queue = queue;
        this.statuses = statuses;
        this.failedEntries = failedEntries;
        this.metrics = metrics;
        this.clock = clock;
    }

    public void requeue(List<Item> items) {
        if (items.isEmpty()) {
            return;
        }
        Instant now = clock.instant();
        for (Item item : items) {
            ReplicationEntry e = item.entry();
            statuses.recordOutcome(new StatusEntry(e.bucket(), e.versionKey(), item.site(), ReplicationStatus.PENDING, null,
                    e.metadata(), 0, 0, 0, now.toString()));
        }
        queue.publish(items.stream().map(Item::entry).toList());
        Map<String, Counters> queued = new HashMap<>();
        for (Item item : items) {
            if (item.replaces() != null) {
                failedEntries.removeEntry(item.replaces());
            }
            queued.merge(item.site(), Counters.queued(1, item.entry().metadata().contentLength()), Counters::plus);
        }
        queued.forEach((site, counters) -> metrics.add(site, now, counters));
    }
}
