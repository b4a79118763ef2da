package io.backbeatserverless.status;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.cloudserver.CloudServerBackbeatRoutes;
import io.backbeatserverless.adapters.cloudserver.CloudServerSourceStatusWriter;
import io.backbeatserverless.core.status.SourceStatusWriter;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbFailedEntryStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.kafka.KafkaEventRecords;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.MalformedEntryException;
import io.backbeatserverless.core.entry.MalformedRecord;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.ops.FailedEntry;
import io.backbeatserverless.core.ops.FailedEntryStore;
import io.backbeatserverless.core.ops.MetricsStore;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.ReplicationStatusStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records the outcomes of a status batch in order:
 * <ul>
 *   <li>each site's status, under the merge rules (a COMPLETED site stays COMPLETED, so a late FAILED
 *       from a replayed batch cannot undo it);</li>
 *   <li>every new FAILED becomes a failed entry, kept {@code failedEntryRetentionHours} (24 h), holding
 *       the entry to re-publish on retry; a site that completes later leaves the failed set;</li>
 *   <li>the site's completion, failure and skip counters, counted once per change of status, so a
 *       replayed batch counts nothing twice;</li>
 *   <li>for a CloudServer source, the status written back into the version's metadata (so HEAD there
 *       shows {@code x-amz-replication-status}).</li>
 * </ul>
 * A store error throws, so the event source retries the whole batch; every step is idempotent.
 */
public final class StatusRecorder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StatusRecorder.class);
    private static final int OBJECT_CONCURRENCY = 16;

    private final ReplicationStatusStore store;
    private final FailedEntryStore failedEntries;
    private final MetricsStore metrics;
    private final Duration retention;
    private final SourceStatusWriter sourceWriter;
    private final Clock clock;
    private final AutoCloseable resources;

    public StatusRecorder(ReplicationStatusStore store, FailedEntryStore failedEntries, MetricsStore metrics,
                          SourceStatusWriter sourceWriter, Duration retention, Clock clock, AutoCloseable resources) {
        this.store = store;
        this.sourceWriter = sourceWriter;
        this.failedEntries = failedEntries;
        this.metrics = metrics;
        this.retention = retention;
        this.clock = clock;
        this.resources = resources;
    }

    public static StatusRecorder fromEnvironment(Map<String, String> env) {
        return create(BackbeatConfig.fromEnvironment(env), Clock.systemUTC());
    }

    public static StatusRecorder create(BackbeatConfig config, Clock clock) {
        var dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint());
        var tables = config.dynamodb().tables();
        CloudServerBackbeatRoutes routes = BackbeatConfig.SourceConfig.TYPE_CLOUDSERVER.equals(config.source().type())
                ? new CloudServerBackbeatRoutes(config.source().endpoint(), ApacheHttpClient.builder().maxConnections(16).build()) : null;
        return new StatusRecorder(new DynamoDbReplicationStatusStore(dynamo, tables.status(), clock),
                new DynamoDbFailedEntryStore(dynamo, tables.failedEntries()), new DynamoDbMetricsStore(dynamo, tables.metrics()),
                routes == null ? SourceStatusWriter.NONE : new CloudServerSourceStatusWriter(routes),
                Duration.ofHours(config.ops().failedEntryRetentionHours()), clock, () -> {
            if (routes != null) {
                routes.close();
            }
            dynamo.close();
        });
    }

    public BatchResult record(KafkaEvent event) {
        int malformed = 0;
        Map<String, List<StatusEntry>> byObject = new LinkedHashMap<>();
        for (List<KafkaEventRecords.Record> partition : KafkaEventRecords.byPartition(event)) {
            for (KafkaEventRecords.Record record : partition) {
                Object decoded;
                try {
                    decoded = EntryCodec.decodeStatusTopicRecord(record.value());
                } catch (MalformedEntryException e) {
                    malformed++;
                    LOG.error("malformed status entry at {} skipped: {}", record.position(), e.getMessage());
                    continue;
                }
                if (decoded instanceof MalformedRecord bad) {
                    malformed++;
                    keepMalformed(bad);
                    continue;
                }
                StatusEntry entry = (StatusEntry) decoded;
                byObject.computeIfAbsent(entry.messageKey(), k -> new ArrayList<>()).add(entry);
            }
        }
        // One object's outcomes in order; different objects at once (the store round trips dominate).
        Map<String, Counters> countersBySite = new ConcurrentHashMap<>();
        AtomicInteger recorded = new AtomicInteger();
        AtomicInteger unchanged = new AtomicInteger();
        Semaphore permits = new Semaphore(OBJECT_CONCURRENCY);
        List<Future<?>> work = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (List<StatusEntry> outcomes : byObject.values()) {
                work.add(executor.submit(() -> {
                    permits.acquire();
                    try {
                        for (StatusEntry entry : outcomes) {
                            recordOne(entry, countersBySite, recorded, unchanged);
                        }
                        return null;
                    } finally {
                        permits.release();
                    }
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while recording outcomes", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
        // Counters once per site and batch. A batch that fails after its statuses were recorded is not
        // counted again on retry (the transitions are already there): the counters may then fall short.
        Instant now = clock.instant();
        countersBySite.forEach((site, delta) -> metrics.add(site, now, delta));
        return new BatchResult(recorded.get(), unchanged.get(), malformed);
    }

    private void recordOne(StatusEntry entry, Map<String, Counters> countersBySite, AtomicInteger recorded, AtomicInteger unchanged) {
        ReplicationStatusStore.Transition transition = store.recordOutcome(entry);
        if (transition.changed()) {
            recorded.incrementAndGet();
            Counters delta = afterChange(entry, transition);
            if (!delta.isZero()) {
                countersBySite.merge(entry.site(), delta, Counters::plus);
            }
        } else {
            unchanged.incrementAndGet();
            if (transition.after() != entry.status()) {
                LOG.info("{}/{} version {} at {}: {} ignored, the site is already {}", entry.bucket(),
                        entry.versionKey().objectKey(), entry.versionKey().versionId(), entry.site(), entry.status(),
                        transition.after());
            }
        }
    }

    /** Writes back, keeps or drops the failed entry; returns what the site's counters gain. */
    private Counters afterChange(StatusEntry entry, ReplicationStatusStore.Transition transition) {
        try {
            sourceWriter.write(entry, transition.after());
        } catch (Exception e) {
            // Thrown on: the batch is retried, and every step of recording is idempotent.
            throw new IllegalStateException("writing " + transition.after() + " back to the source for " + entry.bucket() + "/"
                    + entry.versionKey().objectKey() + " failed: " + e.getMessage(), e);
        }
        Instant now = clock.instant();
        long size = entry.metadata().contentLength();
        switch (transition.after()) {
            case FAILED -> {
                failedEntries.record(new FailedEntry(entry.site(), now, entry.bucket(), entry.versionKey().objectKey(),
                        entry.versionKey().versionId(), size, entry.metadata().lastModified(), entry.reason(), entry.attempts(),
                        retryEntry(entry), now.plus(retention)));
                return new Counters(0, 0, 0, 0, 1, size, 0, 0);
            }
            case COMPLETED -> {
                if (transition.before() == ReplicationStatus.FAILED) {
                    failedEntries.remove(entry.site(), entry.bucket(), entry.versionKey().objectKey(), entry.versionKey().versionId());
                }
                return new Counters(0, 0, 1, size, 0, 0, 0, 0);
            }
            case SKIPPED -> {
                return new Counters(0, 0, 0, 0, 0, 0, 1, size);
            }
            default -> {
                return Counters.ZERO; // PENDING (a retry) is counted by whoever re-queued it
            }
        }
    }

    /**
     * A replication record its replicator could not decode becomes a failed entry of that site, listed
     * with the reason and where it was (bucket "(malformed)", key = topic-partition@offset); retrying it
     * is refused with the same reason.
     */
    private void keepMalformed(MalformedRecord bad) {
        Instant now = clock.instant();
        failedEntries.record(new FailedEntry(bad.site(), now, MalformedRecord.FAILED_ENTRY_BUCKET, bad.position(), "-", 0, null,
                "malformed entry: " + bad.reason(), 1, bad.raw() == null ? "" : bad.raw(), now.plus(retention)));
        metrics.add(bad.site(), now, new Counters(0, 0, 0, 0, 1, 0, 0, 0));
    }

    /** The replication entry to re-publish on retry: the version, pending again at this site only. */
    private static String retryEntry(StatusEntry entry) {
        var metadata = entry.metadata().withSiteStatus(entry.site(), ReplicationStatus.PENDING).onlySite(entry.site());
        return new String(EntryCodec.encode(new ReplicationEntry(ReplicationEntry.TYPE_PUT, entry.bucket(), entry.versionKey(),
                metadata, null)), StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws Exception {
        resources.close();
    }

    /** Outcomes that changed a site's status, outcomes that changed nothing (a replay, a final site), undecodable entries. */
    public record BatchResult(int recorded, int unchanged, int malformed) {
    }
}
