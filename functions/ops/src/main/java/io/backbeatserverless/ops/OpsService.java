package io.backbeatserverless.ops;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.adapters.kafka.KafkaReplicationQueue;
import io.backbeatserverless.core.entry.MalformedRecord;
import io.backbeatserverless.core.ops.Requeue;
import io.backbeatserverless.core.verify.VerifyRequest;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.core.verify.VerifyRunStore;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.ops.FailedEntry;
import io.backbeatserverless.core.ops.FailedEntryStore;
import io.backbeatserverless.core.ops.MetricsStore;
import io.backbeatserverless.core.ops.SiteState;
import io.backbeatserverless.core.ops.SiteStateStore;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.ReplicationStatusStore;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.core.status.VersionStatus;
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
import java.util.Optional;

/**
 * What operators do, independent of HTTP: list and retry failed entries, pause and resume sites (now
 * or on a schedule), read metrics. The ops API, the Lambda handler and the console all go through it.
 */
public final class OpsService {

    private static final Logger LOG = LoggerFactory.getLogger(OpsService.class);
    public static final int PAGE_SIZE = 100;
    /** The reason of an entry built for a ForceRetry of a version that is not in the failed set. */
    private static final String FORCED = "forced retry";

    private final BackbeatConfig config;
    private final FailedEntryStore failedEntries;
    private final SiteStateStore siteStates;
    private final MetricsStore metrics;
    private final ReplicationStatusStore statuses;
    private final Requeue requeue;
    private final SiteControl control;
    private final io.backbeatserverless.core.ops.CheckpointStore checkpoints;
    private final io.backbeatserverless.core.rules.RuleStore rules;
    private final VerifyRunStore verifyRuns;
    /** Told when a verify run is started (the local stack's worker wakes up; in AWS a schedule takes runs up). */
    private volatile Runnable verifyStarted = () -> {
    };
    private final Clock clock;
    private final io.backbeatserverless.core.ops.ReplicationMetrics replicationMetrics;
    /** Each site's failed versions waiting for their automatic retry, as the last walk of its failed list counted them. */
    private final Map<String, Integer> waitingForRetry = new java.util.concurrent.ConcurrentHashMap<>();

    public OpsService(BackbeatConfig config, FailedEntryStore failedEntries, SiteStateStore siteStates, MetricsStore metrics,
                      ReplicationStatusStore statuses, EntryPublisher publisher, SiteControl control,
                      io.backbeatserverless.core.ops.CheckpointStore checkpoints, io.backbeatserverless.core.rules.RuleStore rules,
                      VerifyRunStore verifyRuns, Clock clock) {
        this(config, failedEntries, siteStates, metrics, statuses, publisher, control, checkpoints, rules, verifyRuns, clock,
                io.backbeatserverless.core.ops.ReplicationMetrics.NONE);
    }

    /** @param replicationMetrics where each site's backlog goes every minute (S3's pending metrics, in EMF) */
    public OpsService(BackbeatConfig config, FailedEntryStore failedEntries, SiteStateStore siteStates, MetricsStore metrics,
                      ReplicationStatusStore statuses, EntryPublisher publisher, SiteControl control,
                      io.backbeatserverless.core.ops.CheckpointStore checkpoints, io.backbeatserverless.core.rules.RuleStore rules,
                      VerifyRunStore verifyRuns, Clock clock, io.backbeatserverless.core.ops.ReplicationMetrics replicationMetrics) {
        this.replicationMetrics = replicationMetrics;
        this.verifyRuns = verifyRuns;
        this.checkpoints = checkpoints;
        this.rules = rules;
        this.config = config;
        this.failedEntries = failedEntries;
        this.siteStates = siteStates;
        this.metrics = metrics;
        this.statuses = statuses;
        this.requeue = new Requeue(new KafkaReplicationQueue(publisher, config.kafka().replicationTopic()), statuses, failedEntries,
                metrics, clock);
        this.control = control;
        this.clock = clock;
    }

    public BackbeatConfig config() {
        return config;
    }

    public List<String> sites() {
        return config.siteNames();
    }

    /** {@code site} itself, or every site for {@code all} (or null); 404 for a site that does not exist. */
    public List<String> resolveSites(String siteOrAll) {
        if (siteOrAll == null || siteOrAll.equals("all")) {
            return sites();
        }
        if (!sites().contains(siteOrAll)) {
            throw OpsException.notFound("unknown site '" + siteOrAll + "' (sites: " + String.join(", ", sites()) + ")");
        }
        return List.of(siteOrAll);
    }

    // ----- failed entries -----

    /**
     * A page of the site's failed entries after {@code marker} (null: the first page). Any site name is listed, a
     * configured one or not: versions queued for a site the deployment does not have (removed, or named by a rule but
     * never configured) are failed entries under that name, with the reason.
     */
    public FailedEntryStore.Page listFailed(String site, String marker) {
        if (site == null || site.isBlank()) {
            throw OpsException.badQuery("which site's failed entries? (sites: " + String.join(", ", sites()) + ")");
        }
        return failedEntries.list(site, marker, PAGE_SIZE, clock.instant());
    }

    public List<FailedEntry> failedVersion(String bucket, String key, String versionId) {
        return failedEntries.findByVersion(bucket, key, versionId, clock.instant());
    }

    /** One retry request of {@code POST /_/crr/failed}. */
    public record RetryRequest(String bucket, String key, String versionId, String site, boolean force) {
    }

    /**
     * Queues each requested version again for its site ({@link Requeue}: PENDING, published, its failed entry
     * removed). A version that is not failed is left alone unless {@code force}: then its last failed entry,
     * or one built from the status table, is queued.
     */
    public List<FailedEntry> retry(List<RetryRequest> requests) {
        List<FailedEntry> chosen = new ArrayList<>();
        Instant now = clock.instant();
        for (RetryRequest request : requests) {
            resolveSites(request.site());
            Optional<FailedEntry> failed = failedEntries.findByVersion(request.bucket(), request.key(), request.versionId(), now)
                    .stream().filter(e -> e.site().equals(request.site())).findFirst();
            if (failed.isEmpty() && !request.force()) {
                continue;
            }
            failed.or(() -> lastKnown(request)).ifPresent(chosen::add);
        }
        return requeue(chosen);
    }

    /** What a retry-all did: entries queued again, and those that cannot be (records no replicator could decode). */
    public record RetryAll(int retried, int unretryable) {
    }

    /**
     * Queues every failed entry of the site again, a page at a time (each page one read of the store). Entries
     * that fail again while it runs are not taken up again by the same call.
     */
    public RetryAll retryAll(String site) {
        resolveSites(site);
        Instant started = clock.instant();
        int retried = 0;
        int unretryable = 0;
        String marker = null;
        do {
            FailedEntryStore.Page page = failedEntries.list(site, marker, PAGE_SIZE, started);
            List<FailedEntry> retryable = new ArrayList<>();
            for (FailedEntry e : page.entries()) {
                if (e.failedAt().isAfter(started)) {
                    return new RetryAll(retried, unretryable);
                }
                if (MalformedRecord.FAILED_ENTRY_BUCKET.equals(e.bucket())) {
                    unretryable++; // nothing valid to replay: it stays listed
                } else {
                    retryable.add(e);
                }
            }
            retried += requeue(retryable).size();
            marker = page.truncated() ? page.nextMarker() : null;
        } while (marker != null);
        return new RetryAll(retried, unretryable);
    }

    /**
     * Queues again, through the normal path, every failed entry whose automatic retry is due (issue 31): a transient
     * failure, retried on its site's schedule ({@code sites[].autoRetrySeconds}) with no operator. Its entry carries the
     * retry's number, which its outcome brings back to the next failure's schedule. Called by the minute tick. Returns the
     * versions queued.
     */
    public int retryDueFailures() {
        Instant now = clock.instant();
        int retried = 0;
        for (String site : sites()) {
            String marker = null;
            int waiting = 0;
            do {
                FailedEntryStore.Page page = failedEntries.list(site, marker, PAGE_SIZE, now);
                List<FailedEntry> due = page.entries().stream().filter(e -> e.retryDue(now)).toList();
                if (!due.isEmpty()) {
                    retried += requeue(due, true).size();
                }
                waiting += (int) page.entries().stream().filter(e -> e.nextRetryAt() != null && !e.retryDue(now)).count();
                marker = page.truncated() ? page.nextMarker() : null;
            } while (marker != null);
            // Reported with the backlog, every minute (the count of the last walk: in AWS the tick before's).
            waitingForRetry.put(site, waiting);
        }
        return retried;
    }

    private List<FailedEntry> requeue(List<FailedEntry> entries) {
        return requeue(entries, false);
    }

    /** @param automatic queued by the schedule: the entry counts one more automatic retry (an operator's starts over) */
    private List<FailedEntry> requeue(List<FailedEntry> entries, boolean automatic) {
        List<FailedEntry> retried = new ArrayList<>();
        List<String> unretryable = new ArrayList<>();
        List<Requeue.Item> items = new ArrayList<>();
        for (FailedEntry entry : entries) {
            ReplicationEntry replication;
            try {
                replication = EntryCodec.decodeReplicationEntry(entry.entry().getBytes(StandardCharsets.UTF_8));
            } catch (io.backbeatserverless.core.entry.MalformedEntryException e) {
                // A record no replicator could decode: nothing valid to replay; it stays listed.
                unretryable.add(entry.bucket() + "/" + entry.objectKey() + " cannot be retried: " + entry.reason());
                continue;
            }
            items.add(new Requeue.Item(automatic ? replication.withAutoRetries(entry.autoRetries() + 1) : replication, entry.site(),
                    entry.reason().equals(FORCED) ? null : entry));
            retried.add(entry);
        }
        if (retried.isEmpty() && !unretryable.isEmpty()) {
            throw OpsException.badBody(String.join("; ", unretryable));
        }
        unretryable.forEach(reason -> LOG.info("retry: {}", reason));
        requeue.requeue(items);
        retried.forEach(entry -> LOG.info("retry{}: {}/{} version {} re-queued for {}", automatic ? " (automatic, " + (entry.autoRetries() + 1)
                + ")" : "", entry.bucket(), entry.objectKey(), entry.versionId(), entry.site()));
        return retried;
    }

    /** For ForceRetry of a version no longer in the failed set: rebuild its entry from the status table, if it is there. */
    private Optional<FailedEntry> lastKnown(RetryRequest request) {
        Optional<VersionStatus> status = statuses.find(new VersionRef(request.bucket(), request.key(), request.versionId()));
        return status.map(s -> {
            var metadata = io.backbeatserverless.core.metadata.ObjectMetadata.builder(request.key(), request.versionId())
                    .contentLength(s.size()).lastModified(s.lastModified()).deleteMarker(s.deleteMarker())
                    .replicationInfo(new io.backbeatserverless.core.metadata.ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                            List.of(new io.backbeatserverless.core.metadata.ObjectMetadata.Backend(request.site(), ReplicationStatus.PENDING, "")),
                            List.of("DATA", "METADATA"), "", request.site(), ""))
                    .build();
            ReplicationEntry entry = new ReplicationEntry(ReplicationEntry.TYPE_PUT, request.bucket(),
                    new io.backbeatserverless.core.entry.VersionKey(request.key(), request.versionId()), metadata, null);
            return new FailedEntry(request.site(), clock.instant(), request.bucket(), request.key(), request.versionId(), s.size(),
                    s.lastModified(), FORCED, 0, new String(EntryCodec.encode(entry), StandardCharsets.UTF_8), null);
        });
    }

    // ----- pause, resume, schedule -----

    public void pause(String siteOrAll) {
        for (String site : resolveSites(siteOrAll)) {
            siteStates.save(new SiteState(site, true, null));
            control.setEnabled(site, false);
            LOG.info("site {} paused", site);
        }
    }

    public void resume(String siteOrAll) {
        for (String site : resolveSites(siteOrAll)) {
            siteStates.save(SiteState.active(site));
            control.setEnabled(site, true);
            LOG.info("site {} resumed", site);
        }
    }

    /** Schedules a resume of each paused site in {@code hours}; a site that is not paused is paused first, as in Backbeat. */
    public void scheduleResume(String siteOrAll, double hours) {
        if (!(hours > 0)) {
            throw OpsException.badBody("hours must be a positive number");
        }
        Instant at = clock.instant().plusMillis((long) (hours * 3_600_000));
        for (String site : resolveSites(siteOrAll)) {
            siteStates.save(new SiteState(site, true, at));
            control.setEnabled(site, false);
            LOG.info("site {} paused, resumes at {}", site, at);
        }
    }

    public void cancelScheduledResume(String siteOrAll) {
        for (String site : resolveSites(siteOrAll)) {
            SiteState state = siteStates.get(site);
            siteStates.save(new SiteState(site, state.paused(), null));
        }
    }

    /** {@code {"site": "2026-...Z"}}, or {@code "none"} for a site without a schedule. */
    public Map<String, String> scheduledResumes(String siteOrAll) {
        Map<String, String> result = new LinkedHashMap<>();
        for (String site : resolveSites(siteOrAll)) {
            Instant at = siteStates.get(site).scheduledResume();
            result.put(site, at == null ? "none" : at.toString());
        }
        return result;
    }

    /** {@code {"site": "enabled" | "disabled"}}. */
    public Map<String, String> status(String siteOrAll) {
        Map<String, String> result = new LinkedHashMap<>();
        for (String site : resolveSites(siteOrAll)) {
            result.put(site, siteStates.get(site).paused() ? "disabled" : "enabled");
        }
        return result;
    }

    /** Resumes every site whose scheduled resume is due; returns the sites resumed. Called by a scheduler. */
    public List<String> fireDueResumes() {
        List<String> resumed = new ArrayList<>();
        Instant now = clock.instant();
        for (String site : sites()) {
            SiteState state = siteStates.get(site);
            if (state.scheduledResume() != null && !state.scheduledResume().isAfter(now)
                    && siteStates.resumeIfScheduled(site, state.scheduledResume())) {
                control.setEnabled(site, true);
                resumed.add(site);
                LOG.info("site {} resumed as scheduled for {}", site, state.scheduledResume());
            }
        }
        return resumed;
    }

    /**
     * Each site's backlog as S3's OperationsPendingReplication and BytesPendingReplication, every minute (the tick that
     * fires due resumes): a paused or stuck site, whose status function sees no outcome, still reports it. Returns the
     * sites reported.
     */
    public List<String> reportBacklog() {
        List<String> reported = new ArrayList<>();
        for (String site : sites()) {
            replicationMetrics.pending(site, metrics.totals(site));
            Integer waiting = waitingForRetry.get(site);
            if (waiting != null) {
                replicationMetrics.waitingForRetry(site, waiting);
            }
            reported.add(site);
        }
        return reported;
    }

    /** Re-applies every stored site state to where replicators run (at start-up). */
    public void applyStoredStates() {
        for (String site : sites()) {
            control.setEnabled(site, !siteStates.get(site).paused());
        }
    }

    // ----- metrics -----

    /** Counters of the last {@code window} (completions, failures: 24 h; throughput: 15 min). */
    public Counters window(String site, Duration window) {
        Instant now = clock.instant();
        return metrics.sum(site, now.minus(window), now.plusSeconds(60));
    }

    /** The last {@code minutes} minutes, one entry per minute (zeros included), oldest first. */
    public java.util.List<Map.Entry<Instant, Counters>> history(String site, int minutes) {
        Instant now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MINUTES);
        Instant from = now.minus(Duration.ofMinutes(minutes - 1L));
        var series = metrics.series(site, from, now.plusSeconds(60));
        List<Map.Entry<Instant, Counters>> result = new ArrayList<>();
        for (Instant m = from; !m.isAfter(now); m = m.plusSeconds(60)) {
            result.add(Map.entry(m, series.getOrDefault(m, Counters.ZERO)));
        }
        return result;
    }

    public Counters totals(String site) {
        return metrics.totals(site);
    }

    // ----- the rule store (AWS S3 sources) -----

    /** Checks the AWS ReplicationConfiguration JSON (every field, and that its sites exist) and stores it for the bucket. */
    public void putRules(String bucket, String json) {
        try {
            io.backbeatserverless.core.rules.ReplicationConfigurationParser.parse(json).requireKnownSites(sites());
        } catch (io.backbeatserverless.core.rules.InvalidReplicationConfigurationException e) {
            throw OpsException.badBody("invalid replication configuration for bucket '" + bucket + "': " + e.getMessage());
        }
        if (json.length() > MAX_RULES_DOCUMENT) {
            // A DynamoDB item holds 400 KB, the rule store's document and key included.
            throw OpsException.badBody("the replication configuration is " + json.length() + " characters: the rule store keeps at most "
                    + MAX_RULES_DOCUMENT);
        }
        rules.put(bucket, json);
        LOG.info("rule store: replication configuration of bucket {} set", bucket);
    }

    private static final int MAX_RULES_DOCUMENT = 350_000;

    public Optional<String> rules(String bucket) {
        return rules.find(bucket);
    }

    public void deleteRules(String bucket) {
        rules.delete(bucket);
    }

    public Map<String, String> allRules() {
        return rules.all();
    }

    /** The listing feed's saved cursor (its pass and progress), as JSON. */
    public Optional<com.fasterxml.jackson.databind.JsonNode> listingCursor() {
        return checkpoints.loadState(config.source().listingCheckpointName()).map(text -> {
            try {
                return new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("unreadable listing checkpoint: " + e.getMessage(), e);
            }
        });
    }

    // ----- verify -----

    /** Called when a run is started, so a worker can take it up at once. */
    public void onVerifyStarted(Runnable hook) {
        this.verifyStarted = hook;
    }

    /** Starts a verify run (a worker walks it); its sites must exist. */
    public VerifyRun startVerify(VerifyRequest request) {
        request.sites().forEach(this::resolveSites);
        Instant now = clock.instant();
        VerifyRun run = VerifyRun.started(VerifyRun.newId(now), request, now);
        verifyRuns.create(run);
        LOG.info("verify {} started: bucket {}, sites {}, prefix '{}', repair {}", run.id(),
                request.bucket() == null ? "(all with rules)" : request.bucket(), request.sites().isEmpty() ? "(all)" : request.sites(),
                request.prefix(), request.repair());
        verifyStarted.run();
        return run;
    }

    public VerifyRun verifyRun(String id) {
        return verifyRuns.find(id).orElseThrow(() -> OpsException.notFound("no verify run '" + id + "'"));
    }

    public List<VerifyRun> verifyRuns(int limit) {
        return verifyRuns.recent(limit);
    }

    public VerifyRunStore.FindingsPage verifyFindings(String id, String site, String marker) {
        verifyRun(id);
        if (site != null) {
            resolveSites(site);
        }
        return verifyRuns.findings(id, site, marker, PAGE_SIZE);
    }

    public VerifyRun cancelVerify(String id) {
        verifyRun(id);
        verifyRuns.cancel(id, clock.instant());
        return verifyRun(id);
    }

    public Optional<VersionStatus> versionStatus(String bucket, String key, String versionId) {
        return statuses.find(new VersionRef(bucket, key, versionId));
    }
}
