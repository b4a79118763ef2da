package io.backbeatserverless.status;

import io.backbeatserverless.core.crash.CrashPoints;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.cloudserver.CloudServerBackbeatRoutes;
import io.backbeatserverless.adapters.cloudserver.CloudServerSourceStatusWriter;
import io.backbeatserverless.core.status.SourceStatusWriter;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbFailedEntryStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.kafka.KafkaEventRecords;
import io.backbeatserverless.core.backfill.BackfillJobStore;
import io.backbeatserverless.core.backfill.BackfillPage;
import io.backbeatserverless.core.backfill.PageOutcome;
import io.backbeatserverless.core.concurrent.BoundedTasks;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.MalformedEntryException;
import io.backbeatserverless.core.entry.MalformedRecord;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.ops.AutoRetrySchedule;
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
import io.backbeatserverless.core.events.ReplicationEvent;
import io.backbeatserverless.core.ops.ReplicationMetrics;
import io.backbeatserverless.adapters.metrics.EmfReplicationMetrics;
import io.backbeatserverless.core.events.ReplicationEvents;
import io.backbeatserverless.status.events.EventBridgeReplicationEvents;
import io.backbeatserverless.status.events.LoggedReplicationEvents;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records the outcomes of a status batch in order:
 * <ul>
 *   <li>each site's status, under {@link io.backbeatserverless.core.status.StatusMerge}'s rules (a COMPLETED site
 *       stays COMPLETED, so a late FAILED from a replayed batch cannot undo it);</li>
 *   <li>for each outcome applied, its effects: a FAILED becomes the version's failed entry at the site, kept
 *       {@code failedEntryRetentionHours} (24 h), holding the entry to re-publish on retry; a COMPLETED or
 *       SKIPPED takes it out of the failed set; for a CloudServer source, the status is written back into the
 *       version's metadata (so HEAD there shows {@code x-amz-replication-status}). They run whenever the
 *       outcome is applied, a replayed one too, so none is lost when a batch fails half-way;</li>
 *   <li>the site's completion, failure and skip counters, counted once per change of status: the status
 *       topic's offsets counted are kept with the counters, so a replayed batch counts nothing twice, and one
 *       that failed after writing its statuses is counted when it is delivered again.</li>
 * </ul>
 * A store error throws, so the event source retries the whole batch.
 */
public final class StatusRecorder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StatusRecorder.class);
    // Each outcome is a few round trips (the status table, and for a CloudServer source a metadata GET and PUT): at 16
    // at once the source's COMPLETED trailed replication by seconds in a burst (docs/benchmarks.md, issue 18).
    private static final int OBJECT_CONCURRENCY = 32;

    private final ReplicationStatusStore store;
    private final FailedEntryStore failedEntries;
    private final MetricsStore metrics;
    private final Duration retention;
    private final SourceStatusWriter sourceWriter;
    private final Clock clock;
    private final AutoCloseable resources;
    private final ReplicationEvents events;
    private final Duration eventThreshold;
    private final ReplicationMetrics replicationMetrics;
    private final BackfillJobStore backfillJobs;
    private final java.util.function.Function<String, AutoRetrySchedule> autoRetries;

    public StatusRecorder(ReplicationStatusStore store, FailedEntryStore failedEntries, MetricsStore metrics,
                          SourceStatusWriter sourceWriter, Duration retention, Clock clock, AutoCloseable resources) {
        this(store, failedEntries, metrics, sourceWriter, retention, clock, resources, ReplicationEvents.NONE, Duration.ofMinutes(15),
                ReplicationMetrics.NONE);
    }

    /**
     * @param events         where the replication events of the outcomes counted go (S3's OperationFailedReplication, ...)
     * @param eventThreshold the replication time after which a completion raises the threshold events
     * @param replicationMetrics where S3 Replication's metrics of the outcomes counted go (CloudWatch, in EMF)
     */
    public StatusRecorder(ReplicationStatusStore store, FailedEntryStore failedEntries, MetricsStore metrics,
                          SourceStatusWriter sourceWriter, Duration retention, Clock clock, AutoCloseable resources,
                          ReplicationEvents events, Duration eventThreshold, ReplicationMetrics replicationMetrics) {
        this(store, failedEntries, metrics, sourceWriter, retention, clock, resources, events, eventThreshold, replicationMetrics, null);
    }

    /** @param backfillJobs where the sites' answers to backfill pages are kept (issue 29); null: none expected */
    public StatusRecorder(ReplicationStatusStore store, FailedEntryStore failedEntries, MetricsStore metrics,
                          SourceStatusWriter sourceWriter, Duration retention, Clock clock, AutoCloseable resources,
                          ReplicationEvents events, Duration eventThreshold, ReplicationMetrics replicationMetrics,
                          BackfillJobStore backfillJobs) {
        this(store, failedEntries, metrics, sourceWriter, retention, clock, resources, events, eventThreshold, replicationMetrics,
                backfillJobs, site -> AutoRetrySchedule.NEVER);
    }

    /** @param autoRetries each site's schedule of automatic retries of a transient failure (issue 31) */
    public StatusRecorder(ReplicationStatusStore store, FailedEntryStore failedEntries, MetricsStore metrics,
                          SourceStatusWriter sourceWriter, Duration retention, Clock clock, AutoCloseable resources,
                          ReplicationEvents events, Duration eventThreshold, ReplicationMetrics replicationMetrics,
                          BackfillJobStore backfillJobs, java.util.function.Function<String, AutoRetrySchedule> autoRetries) {
        this.autoRetries = autoRetries;
        this.backfillJobs = backfillJobs;
        this.replicationMetrics = replicationMetrics;
        this.events = events;
        this.eventThreshold = eventThreshold;
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
                ? new CloudServerBackbeatRoutes(config.source().endpoint(), 32) : null;
        var eventSettings = config.events();
        EventBridgeClient eventBridge = eventSettings.eventBusName() == null ? null : EventBridgeClient.builder()
                .httpClientBuilder(software.amazon.awssdk.http.apache.ApacheHttpClient.builder()).build();
        ReplicationEvents events = eventBridge == null ? new LoggedReplicationEvents()
                : new EventBridgeReplicationEvents(eventBridge, eventSettings.eventBusName());
        return new StatusRecorder(new DynamoDbReplicationStatusStore(dynamo, tables.status(), clock,
                        Duration.ofDays(config.ops().statusRetentionDays())),
                new DynamoDbFailedEntryStore(dynamo, tables.failedEntries()), new DynamoDbMetricsStore(dynamo, tables.metrics()),
                routes == null ? SourceStatusWriter.NONE : new CloudServerSourceStatusWriter(routes),
                Duration.ofHours(config.ops().failedEntryRetentionHours()), clock, () -> {
            if (routes != null) {
                routes.close();
            }
            if (eventBridge != null) {
                eventBridge.close();
            }
            dynamo.close();
        }, events, Duration.ofMinutes(eventSettings.thresholdMinutes()), EmfReplicationMetrics.create(),
                new io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore(dynamo, tables.status(),
                        Duration.ofDays(config.ops().statusRetentionDays()), clock),
                site -> config.sites().stream().filter(s -> s.name().equals(site)).findFirst()
                        .map(io.backbeatserverless.adapters.config.SiteConfig::autoRetrySchedule).orElse(AutoRetrySchedule.NEVER));
    }

    /** An outcome as read from the status topic. */
    private record Read(StatusEntry entry, KafkaEventRecords.Record record) {
    }

    /** A site's answer to a backfill page, as read from the status topic. */
    private record PageRead(PageOutcome outcome, KafkaEventRecords.Record record) {
    }

    /** An outcome and what recording it did. */
    private record Recorded(Read read, ReplicationStatusStore.Transition transition) {
    }

    public BatchResult record(KafkaEvent event) {
        int malformed = 0;
        Map<String, List<Read>> byObject = new LinkedHashMap<>();
        Map<String, Map<String, Long>> lastOffsetBySite = new HashMap<>();
        List<PageRead> pageOutcomes = new ArrayList<>();
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
                if (decoded instanceof PageOutcome page) {
                    pageOutcomes.add(new PageRead(page, record));
                    lastOffsetBySite.computeIfAbsent(page.site(), k -> new HashMap<>()).merge(partitionOf(record), record.offset(), Math::max);
                    continue;
                }
                StatusEntry entry = (StatusEntry) decoded;
                byObject.computeIfAbsent(entry.messageKey(), k -> new ArrayList<>()).add(new Read(entry, record));
                lastOffsetBySite.computeIfAbsent(entry.site(), k -> new HashMap<>()).merge(partitionOf(record), record.offset(), Math::max);
            }
        }
        // One object's outcomes in order; different objects at once (the store round trips dominate).
        List<java.util.concurrent.Callable<List<Recorded>>> tasks = new ArrayList<>();
        Map<String, String> invocation = io.backbeatserverless.adapters.logging.VersionLogContext.invocation();
        for (List<Read> outcomes : byObject.values()) {
            tasks.add(() -> {
                List<Recorded> recorded = new ArrayList<>(outcomes.size());
                for (Read read : outcomes) {
                    recorded.add(new Recorded(read, recordOne(read, invocation)));
                }
                return recorded;
            });
        }
        List<Recorded> results = new ArrayList<>();
        BoundedTasks.run(tasks, OBJECT_CONCURRENCY).forEach(results::addAll);
        recordPages(pageOutcomes);
        count(results, pageOutcomes, lastOffsetBySite);
        long changed = results.stream().filter(r -> r.transition().applied() && r.transition().changed()).count();
        return new BatchResult((int) changed, results.size() - (int) changed, malformed);
    }

    /**
     * Counts, once per site and batch, each outcome that changed its site's status, and records how far the
     * status topic is counted. An outcome counts when it changed the status, or when the status it finds was
     * written by this same record (a batch that failed after writing it and before counting it); and only if
     * its offset is past what was counted before, so a batch delivered again counts nothing twice.
     */
    private void count(List<Recorded> results, List<PageRead> pages, Map<String, Map<String, Long>> lastOffsetBySite) {
        Instant now = clock.instant();
        Map<String, Counters> deltaBySite = new HashMap<>();
        // The minute a batch counts into is its own (the newest time of the outcomes it counts), not the time of counting:
        // delivered again, it meets the same minute, which then knows it counted it (issue 28).
        Map<String, Instant> minuteBySite = new HashMap<>();
        Map<String, Map<String, List<StatusEntry>>> countedBySiteAndBucket = new HashMap<>();
        List<PageOutcome> pagesCounted = new ArrayList<>();
        List<ReplicationEvent> raised = new ArrayList<>();
        lastOffsetBySite.forEach((site, lastOffsets) -> {
            Map<String, Long> countedThrough = metrics.countedThrough(site);
            Counters delta = Counters.ZERO;
            for (Recorded r : results) {
                KafkaEventRecords.Record record = r.read().record();
                if (r.read().entry().site().equals(site) && r.transition().applied() && (r.transition().changed() || r.transition().again())
                        && record.offset() > countedThrough.getOrDefault(partitionOf(record), -1L)) {
                    delta = delta.plus(counted(r.read().entry()));
                    minuteBySite.merge(site, outcomeTime(r.read().entry()), (a, b) -> a.isAfter(b) ? a : b);
                    raised.addAll(ReplicationEvent.of(r.read().entry(), eventThreshold, now));
                    countedBySiteAndBucket.computeIfAbsent(site, k -> new java.util.TreeMap<>())
                            .computeIfAbsent(r.read().entry().bucket(), k -> new ArrayList<>()).add(r.read().entry());
                }
            }
            // A page's versions completed count as completions of the site (its failures and skips have outcomes of their own).
            for (PageRead page : pages) {
                KafkaEventRecords.Record record = page.record();
                if (page.outcome().site().equals(site) && record.offset() > countedThrough.getOrDefault(partitionOf(record), -1L)) {
                    pagesCounted.add(page.outcome());
                    delta = delta.plus(new Counters(0, 0, page.outcome().completed(), page.outcome().completedBytes(), 0, 0, 0, 0));
                    Instant at = page.outcome().timestamp() == null ? now : Instant.parse(page.outcome().timestamp());
                    minuteBySite.merge(site, at, (a, b) -> a.isAfter(b) ? a : b);
                }
            }
            deltaBySite.put(site, delta);
        });
        // The events of the outcomes counted, before the counters move past them: a failure here retries the batch, and
        // the same outcomes raise them again (at least once, as the counters are counted exactly once).
        if (!raised.isEmpty()) {
            events.send(raised);
        }
        lastOffsetBySite.forEach((site, lastOffsets) -> metrics.add(site, minuteBySite.getOrDefault(site, now), deltaBySite.get(site), lastOffsets));
        // After the counters: a batch retried emits nothing twice (at most once; the counters table stays exact). The
        // backlog is the ops function's minute tick's to report: no extra read of the totals per batch here.
        lastOffsetBySite.keySet().forEach(site -> {
            try {
                countedBySiteAndBucket.getOrDefault(site, Map.of()).forEach((bucket, outcomes) -> replicationMetrics.outcomes(site, bucket, outcomes));
                pagesCounted.stream().filter(p -> p.site().equals(site))
                        .forEach(p -> replicationMetrics.pageCompleted(site, p.bucket(), p.completed(), p.completedBytes()));
            } catch (RuntimeException e) {
                LOG.warn("site {}: replication metrics of this batch not emitted: {}", site, e.toString());
            }
        });
    }

    /**
     * Each site's answer to a backfill page: on the page (what status lookups read of its versions) and in its job's
     * counters, each once per part however often the outcome is delivered.
     */
    private void recordPages(List<PageRead> pages) {
        if (pages.isEmpty()) {
            return;
        }
        if (backfillJobs == null) {
            throw new IllegalStateException("backfill page outcomes on the status topic, and no store for them here");
        }
        // A page's parts in order (a later part's versions still put back replace the earlier's); pages at once.
        Map<String, List<PageOutcome>> byPage = new LinkedHashMap<>();
        pages.forEach(page -> byPage.computeIfAbsent(page.outcome().messageKey() + "/" + page.outcome().site(), k -> new ArrayList<>())
                .add(page.outcome()));
        List<java.util.concurrent.Callable<Boolean>> tasks = new ArrayList<>();
        byPage.values().forEach(parts -> tasks.add(() -> {
            parts.forEach(backfillJobs::recordOutcome);
            return true;
        }));
        BoundedTasks.run(tasks, OBJECT_CONCURRENCY);
        if (sourceWriter != SourceStatusWriter.NONE) {
            writePagesBack(byPage.values().stream().flatMap(List::stream).filter(PageOutcome::last).toList());
        }
    }

    /**
     * A source that keeps each version's status in the version itself (CloudServer) is told of a page's versions once the
     * page is done at a site: each version it completed there, COMPLETED, as the per-version path tells it (the versions
     * not completed were told by their own outcomes). CloudServer's backbeat routes have no batch form, so it is a GET and
     * a PUT of each version's metadata, {@value #OBJECT_CONCURRENCY} at once. A page at a time, each noted once told: a
     * batch of many pages that outlives the function's timeout is delivered again and goes on from the first page not told,
     * so it always ends (measured against CloudServer 8.8.35 on this machine: about 380 versions a second, so a batch of 100
     * pages would take about 260 s of the status processor's 300). A failure throws: the batch is retried whole.
     */
    private void writePagesBack(List<PageOutcome> pagesDone) {
        for (PageOutcome outcome : pagesDone) {
            BackfillPage page = backfillJobs.completedUntold(outcome).orElse(null);
            if (page == null) {
                continue; // told already (a batch delivered again), or not recorded (its job removed)
            }
            var rules = page.configuration();
            List<java.util.concurrent.Callable<Boolean>> writes = new ArrayList<>();
            for (BackfillPage.PageVersion v : page.versions()) {
                StatusEntry completed = new StatusEntry(page.bucket(), new VersionKey(v.key(), v.versionId()), outcome.site(),
                        ReplicationStatus.COMPLETED, null, v.metadata(rules).onlySite(outcome.site()), 1, 0, 0, outcome.timestamp());
                writes.add(() -> {
                    try {
                        sourceWriter.write(completed, ReplicationStatus.COMPLETED);
                    } catch (Exception e) {
                        throw new IllegalStateException(page.bucket() + "/" + v.key() + " version " + v.versionId() + ": " + e.getMessage(), e);
                    }
                    return true;
                });
            }
            long started = System.nanoTime();
            try {
                BoundedTasks.run(writes, OBJECT_CONCURRENCY);
            } catch (RuntimeException e) {
                throw new IllegalStateException("writing COMPLETED back to the source for backfill " + outcome.jobId() + " page "
                        + outcome.number() + " at " + outcome.site() + " failed: " + e.getMessage(), e);
            }
            backfillJobs.sourceTold(outcome);
            LOG.info("backfill {} page {} of {}: {} versions COMPLETED at {} written back to the source in {} ms", outcome.jobId(),
                    outcome.number(), outcome.bucket(), writes.size(), outcome.site(), (System.nanoTime() - started) / 1_000_000);
        }
    }

    private static String partitionOf(KafkaEventRecords.Record record) {
        return record.topic() + "-" + record.partition();
    }

    /** @param invocation the invocation's log keys, carried onto this worker thread */
    private ReplicationStatusStore.Transition recordOne(Read read, Map<String, String> invocation) {
        StatusEntry entry = read.entry();
        try (var version = io.backbeatserverless.adapters.logging.VersionLogContext.of(invocation, entry.bucket(),
                entry.versionKey().objectKey(), entry.versionKey().versionId(), entry.site())) {
            ReplicationStatusStore.Transition transition = recordInContext(read);
            LOG.debug("{}/{} version {} at {}: {} recorded ({} before, at {})", entry.bucket(), entry.versionKey().objectKey(),
                    entry.versionKey().versionId(), entry.site(), transition.after(), transition.before(), read.record().position());
            return transition;
        }
    }

    private ReplicationStatusStore.Transition recordInContext(Read read) {
        StatusEntry entry = read.entry();
        ReplicationStatusStore.Transition transition = store.recordOutcome(entry, read.record().position());
        if (!transition.applied()) {
            LOG.info("{}/{} version {} at {}: {} ignored, the site is already {}", entry.bucket(),
                    entry.versionKey().objectKey(), entry.versionKey().versionId(), entry.site(), entry.status(), transition.after());
            return transition;
        }
        // Applied, maybe again (a replayed batch): its effects are all idempotent, and they run every time, so one
        // cut short by a failure before is completed now.
        applyEffects(entry, transition.before());
        return transition;
    }

    /**
     * What an applied outcome causes besides the status: the write-back to the source, and the version's failed
     * entry (kept for a FAILED, removed for a COMPLETED). Each is idempotent: the failed entry's key comes from
     * the outcome's own time, so recording it again replaces it.
     */
    private void applyEffects(StatusEntry entry, ReplicationStatus before) {
        try {
            sourceWriter.write(entry, entry.status());
        } catch (Exception e) {
            // Thrown on: the batch is retried, and every step of recording is idempotent.
            throw new IllegalStateException("writing " + entry.status() + " back to the source for " + entry.bucket() + "/"
                    + entry.versionKey().objectKey() + " failed: " + e.getMessage(), e);
        }
        switch (entry.status()) {
            case FAILED -> {
                CrashPoints.reached(CrashPoints.Point.STATUS_WRITTEN);
                Instant failedAt = outcomeTime(entry);
                // A transient cause is retried on its own, on the site's schedule, counted from this failure (issue 31).
                Instant nextRetryAt = entry.retryable() ? autoRetries.apply(entry.site()).next(failedAt, entry.autoRetries()) : null;
                failedEntries.record(new FailedEntry(entry.site(), failedAt, entry.bucket(), entry.versionKey().objectKey(),
                        entry.versionKey().versionId(), entry.metadata().contentLength(), entry.metadata().lastModified(), entry.reason(),
                        entry.attempts(), retryEntry(entry), failedAt.plus(retention), entry.retryable(), entry.autoRetries(), nextRetryAt));
            }
            case COMPLETED, SKIPPED -> {
                // Only where a failed entry may be: after a failure, or when this outcome is applied again (its first
                // application may have stopped before the removal). A first outcome after PENDING skips the lookup.
                if (before == ReplicationStatus.FAILED || before == entry.status()) {
                    failedEntries.remove(entry.site(), entry.bucket(), entry.versionKey().objectKey(), entry.versionKey().versionId());
                }
            }
            default -> {
                // PENDING (a re-queue) has no effect here: whoever re-queued it did the rest
            }
        }
    }

    /** What a change of the site's status adds to its counters. */
    private static Counters counted(StatusEntry entry) {
        long size = entry.metadata().contentLength();
        return switch (entry.status()) {
            case FAILED -> new Counters(0, 0, 0, 0, 1, size, 0, 0);
            case COMPLETED -> new Counters(0, 0, 1, size, 0, 0, 0, 0);
            case SKIPPED -> new Counters(0, 0, 0, 0, 0, 0, 1, size);
            default -> Counters.ZERO; // PENDING (a retry) is counted by whoever re-queued it
        };
    }

    /** The outcome's own time (the same on every replay), or now for an outcome without one. */
    private Instant outcomeTime(StatusEntry entry) {
        try {
            return entry.timestamp() == null ? clock.instant() : Instant.parse(entry.timestamp());
        } catch (java.time.format.DateTimeParseException e) {
            return clock.instant();
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
