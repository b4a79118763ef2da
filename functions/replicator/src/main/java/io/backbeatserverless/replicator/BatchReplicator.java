package io.backbeatserverless.replicator;

import io.backbeatserverless.core.crash.CrashPoints;

import io.backbeatserverless.core.retry.Retrier;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.cloudserver.CloudServerBackbeatRoutes;
import io.backbeatserverless.adapters.config.ReplicatorSettings;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.adapters.kafka.KafkaEventRecords;
import io.backbeatserverless.core.backfill.BackfillPage;
import io.backbeatserverless.core.concurrent.BoundedTasks;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.MalformedEntryException;
import io.backbeatserverless.core.entry.MalformedRecord;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.time.Instant;
import io.backbeatserverless.core.transfer.CopyProgress;
import io.backbeatserverless.core.transfer.CopyProgressStore;

/**
 * Replicates one Kafka batch to this function's site. The versions of one object (one message key)
 * are applied one after the other in offset order; different objects are replicated in parallel, at
 * most {@code keyConcurrency} at once. Every outcome is published to the status topic, and the call
 * returns only once Kafka acknowledged them all, so a batch whose outcomes are not recorded is
 * retried. Versions this site is not a destination of are ignored; an entry that cannot be decoded
 * is passed on to the status topic as a {@link MalformedRecord} (kept as a failed entry with its reason
 * and position), so one bad record never blocks its partition and is never dropped silently.
 */
public final class BatchReplicator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchReplicator.class);

    private final String site;
    private final SiteReplicator siteReplicator;
    private final EntryPublisher statusPublisher;
    private final String statusTopic;
    private final int keyConcurrency;
    private final Clock clock;
    private final AutoCloseable resources;
    private final Set<String> configuredSites;
    private final Resumption resumption;
    private final boolean answersForUnservedSites;
    private final PageReplicator pages;
    private final java.time.Duration setAsideAfter;

    public BatchReplicator(String site, SiteReplicator siteReplicator, EntryPublisher statusPublisher, String statusTopic,
                           int keyConcurrency, Clock clock, AutoCloseable resources) {
        this(site, siteReplicator, statusPublisher, statusTopic, keyConcurrency, clock, resources, Set.of());
    }

    /**
     * @param configuredSites every site of the deployment. An entry can name a site no replicator serves (a site removed
     *                        while its entries were still queued, a rule naming a site never configured); left alone, its
     *                        status there would stay PENDING forever and no failed entry would list it. The replicator of
     *                        the first of these sites (by name) answers for such sites: a FAILED outcome with the reason,
     *                        retryable once the site is configured. Empty: no such check (tests of one replicator).
     */
    public BatchReplicator(String site, SiteReplicator siteReplicator, EntryPublisher statusPublisher, String statusTopic,
                           int keyConcurrency, Clock clock, AutoCloseable resources, Set<String> configuredSites) {
        this(site, siteReplicator, statusPublisher, statusTopic, keyConcurrency, clock, resources, configuredSites, null);
    }

    /**
     * What lets a batch end before its deadline without losing or reordering anything: entries not finished in time go
     * back to {@code replicationTopic} (same message key: same partition, after what is already there), and
     * {@code copyProgress} says which keys have a copy in progress, whose later versions must wait behind it. A key whose
     * version goes back before its copy started gets a hold there for {@code holdFor} (see {@link CopyProgress#hold}):
     * the key's later versions already further down the partition wait behind it too, so none overtakes it.
     */
    public record Resumption(String replicationTopic, CopyProgressStore copyProgress, java.time.Duration holdFor) {

        /** Holds last a day: a deferred entry is back in front of a replicator within minutes unless the site is paused. */
        public static final java.time.Duration DEFAULT_HOLD = java.time.Duration.ofHours(24);

        public Resumption(String replicationTopic, CopyProgressStore copyProgress) {
            this(replicationTopic, copyProgress, DEFAULT_HOLD);
        }
    }

    public BatchReplicator(String site, SiteReplicator siteReplicator, EntryPublisher statusPublisher, String statusTopic,
                           int keyConcurrency, Clock clock, AutoCloseable resources, Set<String> configuredSites, Resumption resumption) {
        this(site, siteReplicator, statusPublisher, statusTopic, keyConcurrency, clock, resources, configuredSites, resumption,
                siteReplicator instanceof PageSite pageSite ? pageSite : null, Long.MAX_VALUE, ReplicatorSettings.DEFAULTS.setAsideAfter());
    }

    /**
     * @param pageSite       how backfill pages are diffed against the site (null: their versions go one at a time)
     * @param wholeCopyLimit a page's version at or above this size goes through the live path (copied in parts)
     * @param setAsideAfter  how long a version's retries may hold its batch before it is set aside (null: never); only with
     *                       {@link Resumption}, which puts it back
     */
    BatchReplicator(String site, SiteReplicator siteReplicator, EntryPublisher statusPublisher, String statusTopic,
                    int keyConcurrency, Clock clock, AutoCloseable resources, Set<String> configuredSites, Resumption resumption,
                    PageSite pageSite, long wholeCopyLimit, java.time.Duration setAsideAfter) {
        this.setAsideAfter = resumption == null ? null : setAsideAfter;
        this.pages = new PageReplicator(site, (entry, stopAt) -> replicateOne(entry, stopAt,
                io.backbeatserverless.adapters.logging.VersionLogContext.invocation()).status(), pageSite, keyConcurrency, wholeCopyLimit, clock);
        this.resumption = resumption;
        this.configuredSites = Set.copyOf(configuredSites);
        this.answersForUnservedSites = !configuredSites.isEmpty() && site.equals(new java.util.TreeSet<>(configuredSites).first());
        this.site = site;
        this.siteReplicator = siteReplicator;
        this.statusPublisher = statusPublisher;
        this.statusTopic = statusTopic;
        this.keyConcurrency = keyConcurrency;
        this.clock = clock;
        this.resources = resources;
    }

    /** Lambda wiring: configuration from BACKBEAT_CONFIG / BACKBEAT_CONFIG_JSON, the site from BACKBEAT_SITE. */
    public static BatchReplicator fromEnvironment(Map<String, String> env) {
        String site = env.get("BACKBEAT_SITE");
        if (site == null || site.isBlank()) {
            throw new IllegalStateException("BACKBEAT_SITE is not set: which site does this replicator serve?");
        }
        BackbeatConfig config = BackbeatConfig.fromEnvironment(env);
        // In Lambda, each partition of the replication topic may have an invocation at once, each in its own environment.
        return create(config, site, Clock.systemUTC(), config.kafka().partitions());
    }

    /** The local stack's replicator: one event source runner delivers every partition to it. */
    public static BatchReplicator create(BackbeatConfig config, String siteName, Clock clock) {
        return create(config, siteName, clock, 1);
    }

    /** @param instancesAtOnce how many replicators of the site may run at once (each takes that share of its bandwidth limit) */
    public static BatchReplicator create(BackbeatConfig config, String siteName, Clock clock, int instancesAtOnce) {
        SiteConfig site = config.requireSite(siteName);
        var settings = config.replicator();
        int connections = settings.keyConcurrency() * settings.partConcurrency();
        var source = AwsClients.s3(config.source().endpoint(), connections, false, settings.requestTimeouts());
        BandwidthLimit bandwidth = site.maxBytesPerSecond() == null ? null : new BandwidthLimit(siteName, site.maxBytesPerSecond(), instancesAtOnce);
        var destination = AwsClients.s3(site.endpoint(), connections, false, settings.requestTimeouts(),
                bandwidth == null ? List.of() : List.of(bandwidth));
        if (bandwidth != null) {
            LOG.info("site {}: sends at most {} bytes/s from this replicator ({} bytes/s for the site, shared by {} at once)", siteName,
                    bandwidth.bytesPerSecond(), site.maxBytesPerSecond(), instancesAtOnce);
        }
        EntryPublisher publisher = EntryPublisher.connect(config.kafka(), "backbeat-replicator-" + siteName);
        Retrier retrier = Retrier.standard(settings.retryPolicy(), clock, ReplicationErrors::isRetryable);
        var dynamo = io.backbeatserverless.adapters.aws.AwsClients.dynamoDb(config.dynamodb().endpoint());
        CopyProgressStore copyProgress = new io.backbeatserverless.adapters.dynamodb.DynamoDbCopyProgressStore(dynamo,
                config.dynamodb().tables().checkpoints());
        SiteReplicator siteReplicator = SiteConfig.TYPE_SCALITY.equals(site.type())
                ? new CloudServerSiteReplicator(site, source, new CloudServerBackbeatRoutes(site.endpoint(), connections), retrier,
                        config.source()::s3VersionId, bandwidth)
                : new S3SiteReplicator(site, source, destination, settings, retrier, config.source()::s3VersionId, copyProgress, clock,
                        site.copiesServerSideFrom(config.source().endpoint()),
                        SiteStatuses.of(new io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore(dynamo,
                                config.dynamodb().tables().status(), clock), config.source()::statusVersionId),
                        new io.backbeatserverless.adapters.dynamodb.DynamoDbWrittenMarkers(dynamo, config.dynamodb().tables().checkpoints(), clock),
                        config.source()::statusVersionId);
        SiteReplicator replicator = new RuleDecidingReplicator(siteName, siteReplicator, source, retrier);
        return new BatchReplicator(siteName, replicator, publisher, config.kafka().statusTopic(), settings.keyConcurrency(),
                clock, () -> {
            publisher.close();
            source.close();
            destination.close();
            dynamo.close();
        }, config.sites().stream().map(SiteConfig::name).collect(java.util.stream.Collectors.toSet()),
                new Resumption(config.kafka().replicationTopic(), copyProgress, settings.resumableUploadTtl()),
                siteReplicator instanceof PageSite pageSite ? pageSite : null, settings.multipartThresholdBytes(), settings.setAsideAfter());
    }

    public BatchResult replicate(KafkaEvent event) {
        return replicate(event, null);
    }

    /**
     * @param deadline when to stop starting work (the invocation's end less a margin); null: none. Entries not finished
     *                 by then are deferred (back on the topic), never dropped; without {@link Resumption} it is ignored.
     */
    public BatchResult replicate(KafkaEvent event, Instant deadline) {
        Instant stopAt = resumption == null ? null : deadline;
        Map<String, List<ReplicationEntry>> byObject = new LinkedHashMap<>();
        List<ProducerRecord<String, byte[]>> malformedRecords = new ArrayList<>();
        int ignored = 0;
        int malformed = 0;
        List<StatusEntry> unservedSiteOutcomes = new ArrayList<>();
        // Each page with the partition it came on, where its remainder goes back (behind its keys' live entries there).
        List<PageOnPartition> backfillPages = new ArrayList<>();
        for (List<KafkaEventRecords.Record> partition : KafkaEventRecords.byPartition(event)) {
            for (KafkaEventRecords.Record record : partition) {
                ReplicationEntry entry;
                try {
                    Object decoded = EntryCodec.decodeReplicationTopicRecord(record.value());
                    if (decoded instanceof BackfillPage page) {
                        if (page.sites().contains(site)) {
                            backfillPages.add(new PageOnPartition(page, record.partition()));
                        } else {
                            ignored++;
                        }
                        continue;
                    }
                    entry = (ReplicationEntry) decoded;
                } catch (MalformedEntryException e) {
                    malformed++;
                    LOG.error("site {}: malformed entry at {} passed on as a failed entry: {}", site, record.position(), e.getMessage());
                    malformedRecords.add(new ProducerRecord<>(statusTopic, record.position(), EntryCodec.encode(
                            new MalformedRecord(site, record.position(), e.getMessage(), printable(record.value())))));
                    continue;
                }
                if (answersForUnservedSites) {
                    unservedSiteOutcomes.addAll(unservedSites(entry));
                }
                // Not for this site, or already final here (COMPLETED is final): nothing to do.
                if (entry.metadata().replicationInfo().flatMap(i -> i.backend(site)).filter(b -> !b.status().isFinal()).isEmpty()) {
                    ignored++;
                    continue;
                }
                byObject.computeIfAbsent(entry.messageKey(), k -> new ArrayList<>()).add(entry);
            }
        }
        Map<String, CopyProgress> copying = stopAt == null ? Map.of() : copiesInProgress(byObject.values());
        Map<String, CopyProgress> holds = stopAt == null ? Map.of() : holdsOf(byObject.values());
        List<Done> results = replicateAll(byObject.values(), stopAt, copying, holds);
        List<StatusEntry> outcomes = new ArrayList<>();
        List<ReplicationEntry> deferred = new ArrayList<>();
        int setAside = 0;
        for (Done done : results) {
            if (done.status() == null) {
                setAside += done.setAside() ? 1 : 0;
                deferred.add(done.entry());
            } else {
                outcomes.add(done.status());
            }
        }
        outcomes.addAll(unservedSiteOutcomes);
        // Backfill pages after the live entries: a page's copies are conditional on what the site's listing showed, so
        // whichever goes first, an older version never lands over a newer one (issue 29).
        List<ProducerRecord<String, byte[]>> pageRecords = new ArrayList<>();
        long pageCompleted = 0;
        for (PageOnPartition onPartition : backfillPages) {
            BackfillPage page = onPartition.page();
            PageReplicator.Result result = pages.replicate(page, stopAt);
            outcomes.addAll(result.notCompleted());
            pageCompleted += result.outcome().completed();
            pageRecords.add(new ProducerRecord<>(statusTopic, page.messageKey(), EntryCodec.encode(result.outcome())));
            if (result.remainder() != null) {
                // On the page's own partition: its keys' live entries are there (BackfillLister publishes a page per partition).
                pageRecords.add(new ProducerRecord<>(resumption.replicationTopic(), onPartition.partition(), page.messageKey(),
                        EntryCodec.encode(result.remainder())));
            }
        }
        CrashPoints.reached(CrashPoints.Point.REPLICAS_WRITTEN);
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(malformedRecords);
        for (ReplicationEntry entry : deferred) {
            // Back for this site alone: the other sites' replicators have had it already (issue 28: they copied it again).
            records.add(new ProducerRecord<>(resumption.replicationTopic(), entry.messageKey(),
                    EntryCodec.encode(entry.withMetadata(entry.metadata().onlySite(site)).asDeferred())));
        }
        if (!deferred.isEmpty()) {
            holdPlaces(deferred);
            LOG.info("site {}: {} entries deferred to the next invocation (back on {}; {} set aside for their retries)", site, deferred.size(),
                    resumption.replicationTopic(), setAside);
        }
        int failed = 0;
        int skipped = 0;
        for (StatusEntry status : outcomes) {
            records.add(new ProducerRecord<>(statusTopic, status.messageKey(), EntryCodec.encode(status)));
            if (status.status() == ReplicationStatus.FAILED) {
                failed++;
            } else if (status.status() == ReplicationStatus.SKIPPED) {
                skipped++;
            }
        }
        // The pages' outcomes last: they name the versions not COMPLETED, which read PENDING until their own outcomes land.
        records.addAll(pageRecords);
        statusPublisher.publishAll(records);
        return new BatchResult(outcomes.size() - failed - skipped + (int) pageCompleted, failed, skipped, ignored, malformed, deferred.size());
    }

    private record PageOnPartition(BackfillPage page, int partition) {
    }

    /** A FAILED outcome for each site the entry names, still to do there, that no replicator of this deployment serves. */
    private List<StatusEntry> unservedSites(ReplicationEntry entry) {
        List<StatusEntry> outcomes = new ArrayList<>();
        entry.metadata().replicationInfo().ifPresent(info -> info.backends().stream()
                .filter(b -> !configuredSites.contains(b.site()) && !b.status().isFinal())
                .forEach(b -> {
                    String reason = "site '" + b.site() + "' is not configured in this deployment (sites: " + new java.util.TreeSet<>(configuredSites)
                            + "): no replicator serves it; configure it, then retry";
                    LOG.warn("{}/{} version {}: {}", entry.bucket(), entry.objectKey(), entry.versionId(), reason);
                    outcomes.add(new StatusEntry(entry.bucket(), entry.versionKey(), b.site(), ReplicationStatus.FAILED, reason,
                            entry.metadata().withSiteStatus(b.site(), ReplicationStatus.FAILED), 1, 0, 0, clock.instant().toString()));
                }));
        return outcomes;
    }

    /** One entry's result: its outcome, or null when it was deferred to the next invocation ({@code setAside}: for its retries). */
    private record Done(ReplicationEntry entry, StatusEntry status, boolean setAside) {
        Done(ReplicationEntry entry, StatusEntry status) {
            this(entry, status, false);
        }
    }

    /**
     * Issue 28: a deferred entry goes to the end of its partition, behind the entries of its key already there (a delete
     * marker put a moment later, say), which come after it. For each key deferred, a hold names the last of its entries
     * put back: until that one has its outcome, the key's entries not put back wait (are put back in turn, behind it),
     * and the put-back ones go first in any batch that has them. (One write per key deferred; deferrals are rare.)
     */
    private void holdPlaces(List<ReplicationEntry> deferred) {
        Map<String, ReplicationEntry> lastOfKey = new LinkedHashMap<>();
        deferred.forEach(entry -> lastOfKey.put(entry.messageKey(), entry));
        Instant now = clock.instant();
        for (ReplicationEntry entry : lastOfKey.values()) {
            resumption.copyProgress().saveHold(CopyProgress.hold(site, entry.bucket(), entry.objectKey(), siteReplicator.sourceVersion(entry),
                    now, now.plus(resumption.holdFor())));
        }
    }

    /** For the keys of these entries with a hold, that hold (one read per bucket of the batch); expired ones hold nothing. */
    private Map<String, CopyProgress> holdsOf(java.util.Collection<List<ReplicationEntry>> objects) {
        Map<String, CopyProgress> holds = new java.util.HashMap<>();
        keysByBucket(objects).forEach((bucket, keys) -> resumption.copyProgress().holds(site, bucket, keys).forEach((key, hold) -> {
            if (!hold.expired(clock.instant())) {
                holds.put(bucket + "/" + key, hold);
            }
        }));
        return holds;
    }

    private static Map<String, List<String>> keysByBucket(java.util.Collection<List<ReplicationEntry>> objects) {
        Map<String, List<String>> keysByBucket = new LinkedHashMap<>();
        for (List<ReplicationEntry> versions : objects) {
            ReplicationEntry first = versions.getFirst();
            keysByBucket.computeIfAbsent(first.bucket(), b -> new ArrayList<>()).add(first.objectKey());
        }
        return keysByBucket;
    }

    /** For the keys of these entries with a copy in progress, that progress (one read per bucket of the batch). */
    private Map<String, CopyProgress> copiesInProgress(java.util.Collection<List<ReplicationEntry>> objects) {
        Map<String, CopyProgress> copying = new java.util.HashMap<>();
        keysByBucket(objects).forEach((bucket, keys) -> {
            for (String key : resumption.copyProgress().inProgress(site, bucket, keys)) {
                // An expired copy holds nothing back: its version's next attempt aborts it and starts over.
                resumption.copyProgress().find(site, bucket, key).filter(p -> !p.expired(clock.instant()))
                        .ifPresent(p -> copying.put(bucket + "/" + key, p));
            }
        });
        return copying;
    }

    /**
     * Each object's versions in order on one thread; objects in parallel, bounded. Results keep per-object order. Once
     * one version of an object is deferred, the later ones are too (they must not overtake it); a version is deferred
     * without being tried when the deadline has passed, when an earlier version of its key is being copied, or when its
     * key has a hold and it was not put back itself. Entries put back go first (they come before the others of their
     * key); the hold goes once the last of them has its outcome.
     */
    private List<Done> replicateAll(java.util.Collection<List<ReplicationEntry>> objects, Instant stopAt, Map<String, CopyProgress> copying,
                                    Map<String, CopyProgress> holds) {
        List<java.util.concurrent.Callable<List<Done>>> tasks = new ArrayList<>(objects.size());
        Map<String, String> invocation = io.backbeatserverless.adapters.logging.VersionLogContext.invocation();
        for (List<ReplicationEntry> versions : objects) {
            tasks.add(() -> {
                List<Done> results = new ArrayList<>(versions.size());
                boolean deferRest = false;
                String object = versions.getFirst().bucket() + "/" + versions.getFirst().objectKey();
                CopyProgress waitingFor = copying.get(object);
                CopyProgress hold = holds.get(object);
                for (ReplicationEntry entry : inTheirOrder(versions, waitingFor, hold != null)) {
                    String version = siteReplicator.sourceVersion(entry);
                    boolean theOneWaitedFor = waitingFor != null && waitingFor.versionId().equals(version);
                    if (deferRest || (stopAt != null && !clock.instant().isBefore(stopAt)) || (waitingFor != null && !theOneWaitedFor)
                            || (hold != null && !entry.deferred())) {
                        deferRest = true;
                        results.add(new Done(entry, null));
                        continue;
                    }
                    Done done = replicateOne(entry, stopAt, invocation);
                    deferRest = done.status() == null;
                    if (!deferRest && theOneWaitedFor) {
                        waitingFor = null;
                    }
                    if (!deferRest && hold != null && hold.versionId().equals(version)) {
                        resumption.copyProgress().removeHold(site, entry.bucket(), entry.objectKey());
                        hold = null;
                    }
                    results.add(done);
                }
                return results;
            });
        }
        List<Done> all = new ArrayList<>();
        BoundedTasks.run(tasks, keyConcurrency).forEach(all::addAll);
        return all;
    }

    /**
     * The key's entries in their order, except that those put back at a deadline go first when the key has a hold (in the
     * partition they came back behind the others, whose place is after them), and the version being copied before all.
     */
    private List<ReplicationEntry> inTheirOrder(List<ReplicationEntry> versions, CopyProgress waitingFor, boolean held) {
        List<ReplicationEntry> ordered = new ArrayList<>(versions.size());
        if (held) {
            versions.stream().filter(ReplicationEntry::deferred).forEach(ordered::add);
            versions.stream().filter(e -> !e.deferred()).forEach(ordered::add);
        } else {
            ordered.addAll(versions);
        }
        if (waitingFor != null) {
            for (int i = 0; i < ordered.size(); i++) {
                if (waitingFor.versionId().equals(siteReplicator.sourceVersion(ordered.get(i)))) {
                    ordered.addFirst(ordered.remove(i));
                    break;
                }
            }
        }
        return ordered;
    }

    /**
     * When a retry of this entry is no longer waited for (issue 31): {@code setAsideAfter} from now, or the invocation's
     * deadline if sooner (a retry that would start past it defers the entry rather than run into the end of the invocation).
     * An entry put back once (set aside, or deferred at a deadline) is not set aside again: it gets the whole retry policy, so a
     * site that is slow for every request still makes progress, and the failure, if any, is recorded as such.
     */
    private Instant setAsideAt(ReplicationEntry entry, Instant stopAt) {
        if (setAsideAfter == null || entry.deferred()) {
            return null;
        }
        Instant setAsideAt = clock.instant().plus(setAsideAfter);
        return stopAt != null && stopAt.isBefore(setAsideAt) ? stopAt : setAsideAt;
    }

    /** The raw value as text when it is UTF-8, else base64, so an operator can read what arrived. */
    private static String printable(byte[] value) {
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(value)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return "base64:" + java.util.Base64.getEncoder().encodeToString(value);
        }
    }

    /** @param invocation the invocation's log keys, carried onto this worker thread */
    private Done replicateOne(ReplicationEntry entry, Instant stopAt, Map<String, String> invocation) {
        try (var version = io.backbeatserverless.adapters.logging.VersionLogContext.of(invocation, entry.bucket(), entry.objectKey(),
                entry.versionId(), site)) {
            return replicateInContext(entry, stopAt);
        }
    }

    private Done replicateInContext(ReplicationEntry entry, Instant stopAt) {
        long started = clock.millis();
        ReplicationOutcome outcome;
        try {
            outcome = siteReplicator.replicate(entry, stopAt, setAsideAt(entry, stopAt));
        } catch (RuntimeException e) {
            // A bug, not a site failure: still an outcome, so the version is visible and retryable.
            LOG.error("site {}: replicating {}/{} failed unexpectedly", site, entry.bucket(), entry.objectKey(), e);
            outcome = ReplicationOutcome.failed("internal error: " + e, 1);
        }
        if (outcome.isDeferred()) {
            if (outcome.setAside()) {
                LOG.info("site {}: {}/{} version {} {}", site, entry.bucket(), entry.objectKey(), entry.versionId(), outcome.reason());
            }
            return new Done(entry, null, outcome.setAside());
        }
        if (outcome.reason() != null) {
            LOG.warn("site {}: {}/{} version {} {} after {} attempt(s): {}", site, entry.bucket(), entry.objectKey(),
                    entry.versionId(), outcome.status(), outcome.attempts(), outcome.reason());
        } else {
            // A line per version and stage only when asked (BACKBEAT_LOG_LEVEL=DEBUG): at a billion
            // versions a month, one INFO line each would cost more in CloudWatch Logs than the replication.
            LOG.debug("site {}: {}/{} version {} {} ({} bytes, {} attempt(s))", site, entry.bucket(), entry.objectKey(),
                    entry.versionId(), outcome.status(), outcome.bytes(), outcome.attempts());
        }
        ObjectMetadata updated = outcome.status() == ReplicationStatus.SKIPPED ? entry.metadata()
                : entry.metadata().withSiteStatus(site, outcome.status());
        return new Done(entry, new StatusEntry(entry.bucket(), entry.versionKey(), site, outcome.status(), outcome.reason(), updated,
                outcome.attempts(), outcome.bytes(), clock.millis() - started, clock.instant().toString(), outcome.retryable(),
                entry.autoRetries()));
    }

    @Override
    public void close() throws Exception {
        siteReplicator.close();
        resources.close();
    }

    /**
     * What one invocation did: versions replicated, failed and skipped (outcomes published), entries
     * for other sites (ignored), undecodable entries.
     */
    public record BatchResult(int completed, int failed, int skipped, int ignored, int malformed, int deferred) {
        public BatchResult(int completed, int failed, int skipped, int ignored, int malformed) {
            this(completed, failed, skipped, ignored, malformed, 0);
        }
    }
}
