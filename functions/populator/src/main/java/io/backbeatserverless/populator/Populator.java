package io.backbeatserverless.populator;

import io.backbeatserverless.core.crash.CrashPoints;

import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.backbeatserverless.core.retry.RetryPolicy;

import java.time.Clock;
import java.time.Instant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.ops.MetricsStore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The populator's loop: read the feed, keep the versions whose replication is PENDING to a
 * configured site, publish one entry per version to the replication topic, and acknowledge the batch
 * to the feed once Kafka acknowledged every entry.
 */
public final class Populator implements Runnable, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Populator.class);

    private final ChangeFeed feed;
    private final EntryPublisher publisher;
    private final String topic;
    private final Collection<String> sites;
    private final Duration idleWait;
    private final Clock clock;
    private final MetricsStore metrics;
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong bytesQueued = new AtomicLong();
    private volatile boolean running = true;
    private volatile String lastError;
    /** When a batch last went through (the start, before the first one): what liveness judges progress by. */
    private volatile Instant lastSuccess;
    private volatile int failuresInARow;
    /** A failing batch is read again after a wait that grows to a minute: the one retry policy, never giving up. */
    private static final RetryPolicy FAILED_BATCHES = RetryPolicy.forever(Duration.ofSeconds(1), Duration.ofMinutes(1));

    public Populator(ChangeFeed feed, EntryPublisher publisher, String topic, Collection<String> sites,
                     Duration idleWait, MetricsStore metrics, Clock clock) {
        this.metrics = metrics;
        this.feed = feed;
        this.publisher = publisher;
        this.topic = topic;
        this.sites = List.copyOf(sites);
        this.idleWait = idleWait;
        this.clock = clock;
        this.lastSuccess = clock.instant();
    }

    @Override
    public void run() {
        LOG.info("populator started on the {} feed, publishing to {}", feed.name(), topic);
        RetryPolicy.Backoff backoff = FAILED_BATCHES.backoff(clock);
        while (running) {
            try {
                boolean moved = pollOnce().moved();
                lastSuccess = clock.instant();
                lastError = null;
                failuresInARow = 0;
                backoff.reset();
                if (!moved) {
                    sleep(idleWait);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                if (!running) {
                    return; // stopping: the interrupted read is not a failure worth a warning
                }
                // The batch was not acknowledged, so the feed serves it again: nothing is lost. Health and metrics show
                // how long it has been failing (a batch that always fails is a stall an operator must see).
                lastError = e.toString();
                failuresInARow++;
                Duration wait = backoff.next();
                LOG.warn("populator: {} feed batch failed ({} in a row, none succeeded since {}), retrying in {} ms: {}", feed.name(),
                        failuresInARow, lastSuccess, wait.toMillis(), e.toString());
                sleep(wait);
            }
        }
    }

    /** What one poll did: entries published, and whether the feed moved at all (records read, even if none was replicable). */
    public record Poll(int published, boolean moved) {
    }

    /** Reads and publishes one batch. */
    public Poll pollOnce() throws Exception {
        ChangeFeed.Batch batch = feed.next();
        if (batch.isEmpty() && batch.position() == null) {
            return new Poll(0, false);
        }
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
        Map<String, Counters> queuedBySite = new HashMap<>();
        long batchBytes = 0;
        String now = clock.instant().toString();
        for (SourceVersion version : batch.versions()) {
            if (!isReplicable(version.metadata())) {
                skipped.incrementAndGet();
                continue;
            }
            ReplicationEntry entry = new ReplicationEntry(ReplicationEntry.TYPE_PUT, version.bucket(),
                    new VersionKey(version.metadata().objectKey(), version.metadata().versionId()), version.metadata(),
                    new ReplicationEntry.OverheadFields(version.commitTimestamp() != null ? version.commitTimestamp()
                            : version.metadata().lastModified(), now, version.metadata().versionId()));
            records.add(new ProducerRecord<>(topic, entry.messageKey(), EntryCodec.encode(entry)));
            if (LOG.isDebugEnabled()) {
                try (var logged = io.backbeatserverless.adapters.logging.VersionLogContext.of(entry.bucket(), entry.objectKey(),
                        entry.versionId(), null)) {
                    LOG.debug("{}/{} version {} queued for {}", entry.bucket(), entry.objectKey(), entry.versionId(),
                            version.metadata().replicationInfo().orElseThrow().sites());
                }
            }
            batchBytes += version.metadata().contentLength();
            for (String site : version.metadata().replicationInfo().orElseThrow().sites()) {
                if (sites.contains(site)) {
                    queuedBySite.merge(site, Counters.queued(1, version.metadata().contentLength()), Counters::plus);
                }
            }
        }
        publisher.publishAll(records);
        CrashPoints.reached(CrashPoints.Point.ENTRIES_PUBLISHED);
        feed.acknowledge(batch);
        // After the checkpoint: a crash before it republishes the batch, which must not count it twice.
        queuedBySite.forEach((site, counters) -> metrics.add(site, clock.instant(), counters));
        published.addAndGet(records.size());
        bytesQueued.addAndGet(batchBytes);
        if (!records.isEmpty()) {
            LOG.info("populator: queued {} versions from the {} feed", records.size(), feed.name());
        }
        return new Poll(records.size(), true);
    }

    private boolean isReplicable(ObjectMetadata metadata) {
        return metadata.replicationInfo()
                .filter(info -> info.status() == ReplicationStatus.PENDING)
                .filter(info -> info.sites().stream().anyMatch(sites::contains))
                .isPresent();
    }

    public long published() {
        return published.get();
    }

    public long skipped() {
        return skipped.get();
    }

    public long bytesQueued() {
        return bytesQueued.get();
    }

    public ChangeFeed feed() {
        return feed;
    }

    /** True until a poll fails, and again after the next one succeeds. */
    public boolean lastPollSucceeded() {
        return lastError == null;
    }

    public String lastError() {
        return lastError;
    }

    /** When a batch last went through (or the populator started, before the first). */
    public Instant lastSuccess() {
        return lastSuccess;
    }

    public int failuresInARow() {
        return failuresInARow;
    }

    /** No batch has gone through for longer than {@code stallAfter}: the populator is alive but not moving. */
    public boolean stalled(Duration stallAfter) {
        return Duration.between(lastSuccess, clock.instant()).compareTo(stallAfter) > 0;
    }

    public Clock clock() {
        return clock;
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
    }
}
