package io.backbeatserverless.populator;

import io.backbeatserverless.adapters.aws.BucketRules;
import io.backbeatserverless.adapters.aws.VersionListing;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.core.backfill.BackfillJob;
import io.backbeatserverless.core.backfill.BackfillJobStore;
import io.backbeatserverless.core.backfill.BackfillPage;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.MessageKeys;
import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.ops.MetricsStore;
import io.backbeatserverless.core.retry.RetryPolicy;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser;
import io.backbeatserverless.core.rules.ReplicationRule;
import io.backbeatserverless.core.versions.KeyVersions;
import io.backbeatserverless.core.versions.ListedVersion;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The populator's side of backfill jobs (issue 29): for each job still listing, the source is listed a page at a time
 * (whole keys, up to {@code pageSize} versions), the rules pick the versions each site must have, and the page is
 * recorded (one item) and published (one entry) before the job's cursor moves past it. A populator that dies in between
 * lists the same page again: the same number, the record kept, the entry published again (the replicators' answer to a
 * page is idempotent). The job's cursor moves only from where this lister read it, so two populators never list a page
 * twice into different numbers.
 */
public final class BackfillLister implements Runnable, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BackfillLister.class);
    private static final RetryPolicy FAILED_PAGES = RetryPolicy.forever(Duration.ofSeconds(1), Duration.ofMinutes(1));

    private final S3Client source;
    private final VersionListing listing;
    private final BucketRules bucketRules;
    private final BackfillJobStore jobs;
    private final EntryPublisher publisher;
    private final String topic;
    private final Set<String> configuredSites;
    private final int pageSize;
    private final Duration idleWait;
    private final MetricsStore metrics;
    private final Clock clock;
    private final java.util.function.UnaryOperator<String> entryVersionId;
    private volatile boolean running = true;

    /**
     * @param entryVersionId the entries' spelling of a version id the source's listing gives (a CloudServer source's internal
     *                       id, as its record log names versions and the status table keeps them; any other source's as listed)
     */
    public BackfillLister(S3Client source, BucketRules bucketRules, BackfillJobStore jobs, EntryPublisher publisher, String topic,
                          Collection<String> configuredSites, int pageSize, Duration idleWait, MetricsStore metrics, Clock clock,
                          java.util.function.UnaryOperator<String> entryVersionId) {
        this.entryVersionId = entryVersionId;
        this.source = source;
        this.listing = new VersionListing(source);
        this.bucketRules = bucketRules;
        this.jobs = jobs;
        this.publisher = publisher;
        this.topic = topic;
        this.configuredSites = Set.copyOf(configuredSites);
        this.pageSize = Math.min(1000, Math.max(1, pageSize));
        this.idleWait = idleWait;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public void run() {
        RetryPolicy.Backoff backoff = FAILED_PAGES.backoff(clock);
        while (running) {
            try {
                boolean moved = pollOnce();
                backoff.reset();
                if (!moved) {
                    sleep(idleWait);
                }
            } catch (Exception e) {
                if (!running) {
                    return;
                }
                Duration wait = backoff.next();
                // The jobs could not be read: read again, nothing is lost.
                LOG.warn("backfill: reading the jobs to list failed, retrying in {} ms: {}", wait.toMillis(), e.toString());
                sleep(wait);
            }
        }
    }

    /** Lists one page of each job still listing; true when any moved. */
    public boolean pollOnce() {
        boolean moved = false;
        for (BackfillJob job : jobs.listing()) {
            try {
                moved |= listPage(job);
                failuresInARow.remove(job.id());
            } catch (RuntimeException e) {
                // One job's failure is not another's: the next job is listed. A job that fails every time stops, FAILED with
                // the reason, for an operator to read and start again (nothing of it is lost: its pages so far stand).
                int failures = failuresInARow.merge(job.id(), 1, Integer::sum);
                if (failures >= GIVE_UP_AFTER) {
                    failuresInARow.remove(job.id());
                    jobs.fail(job, "listing stopped after " + failures + " failures in a row at key '" + job.cursor() + "': " + e);
                    LOG.error("backfill {}: listing stopped after {} failures in a row: {}", job.id(), failures, e.toString());
                } else {
                    LOG.warn("backfill {}: listing a page failed ({} in a row), tried again next time: {}", job.id(), failures, e.toString());
                }
                moved = true;
            }
        }
        return moved;
    }

    /** Failures in a row after which a job stops listing (FAILED, with the reason). */
    static final int GIVE_UP_AFTER = 10;
    private final Map<String, Integer> failuresInARow = new java.util.concurrent.ConcurrentHashMap<>();

    /** A page's keys and version ids, at most this many bytes: its record is one DynamoDB item (400 KB at most). */
    static final int PAGE_KEY_BYTES = 256 * 1024;

    private boolean listPage(BackfillJob job) {
        BucketRules.Lookup lookup = bucketRules.lookup(job.bucket());
        if (lookup.rules() == null) {
            String reason = "bucket '" + job.bucket() + "' " + (lookup.problem() != null ? "has an invalid replication configuration: "
                    + lookup.problem() : "has no replication configuration") + ": nothing to backfill; put its rules, then start a job again";
            LOG.warn("backfill {}: {}", job.id(), reason);
            jobs.fail(job, reason);
            return true;
        }
        ReplicationConfiguration rules = lookup.rules();
        List<String> sites = sitesOf(job, rules);
        VersionListing.Page page = withinItemSize(listing.page(job.bucket(), job.prefix(), job.cursor(), pageSize));
        List<BackfillPage.PageVersion> selected = new ArrayList<>();
        for (KeyVersions key : page.keys()) {
            for (ListedVersion version : key.versions()) {
                select(job.bucket(), rules, sites, version).ifPresent(selected::add);
            }
        }
        String now = clock.instant().toString();
        List<BackfillPage> published = new ArrayList<>();
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
        String rulesJson = ReplicationConfigurationParser.toJson(rules);
        for (Map.Entry<Integer, List<BackfillPage.PageVersion>> onPartition : byPartition(job.bucket(), selected).entrySet()) {
            BackfillPage part = new BackfillPage(job.id(), job.pagesListed() + published.size() + 1, 0, job.bucket(), job.prefix(), job.cursor(),
                    page.lastKey(), sites, rulesJson, onPartition.getValue(), now);
            jobs.savePage(part);
            published.add(part);
            records.add(new ProducerRecord<>(topic, onPartition.getKey(), part.messageKey(), EntryCodec.encode(part)));
        }
        publisher.publishAll(records);
        if (!jobs.advance(job, page.keys().isEmpty() ? job.cursor() : page.lastKey(), published, wholeKeysListed(page), page.done(), now, sites)) {
            LOG.info("backfill {}: another lister moved the job's cursor past '{}': its page stands", job.id(), job.cursor());
            return true;
        }
        published.forEach(part -> countQueued(part, rules));
        if (page.done()) {
            LOG.info("backfill {}: {} listed ({} pages)", job.id(), job.bucket(), job.pagesListed() + published.size());
        }
        return true;
    }

    /**
     * The page's versions by the partition their keys' live entries go to, each in the listing's order. A page is published
     * as one page per partition, on that partition: Lambda runs one invocation per partition at a time, in order, so a key's
     * page and its live entries replicate one after the other, never at once. On two partitions, a page's copy of an older
     * version could land on top of a live copy of a newer one made after the page listed the site (a chaos run with one
     * invocation per partition lost 31 versions so: docs/reliability.md).
     */
    private Map<Integer, List<BackfillPage.PageVersion>> byPartition(String bucket, List<BackfillPage.PageVersion> versions) {
        Map<Integer, List<BackfillPage.PageVersion>> parts = new java.util.TreeMap<>();
        int partitions = versions.isEmpty() ? 0 : publisher.partitions(topic);
        for (BackfillPage.PageVersion version : versions) {
            parts.computeIfAbsent(EntryPublisher.partitionFor(MessageKeys.forObject(bucket, version.key()), partitions), p -> new ArrayList<>())
                    .add(version);
        }
        return parts;
    }

    /**
     * The page cut after the key that brings its keys and version ids past {@link #PAGE_KEY_BYTES} (long keys: a thousand
     * keys of 1 KiB would not fit the page's record); the cut keys come with the next page. A page keeps one key at least.
     */
    private static VersionListing.Page withinItemSize(VersionListing.Page page) {
        long bytes = 0;
        for (int i = 0; i < page.keys().size(); i++) {
            KeyVersions key = page.keys().get(i);
            bytes += key.versions().size() * (key.key().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 64L);
            if (bytes > PAGE_KEY_BYTES && i > 0) {
                List<KeyVersions> kept = page.keys().subList(0, i);
                return new VersionListing.Page(kept, kept.getLast().key(), false, page.listed());
            }
        }
        return page;
    }

    /** Entries of the page's whole keys (the listing read more: the key it ended in, listed again with the next page). */
    private static long wholeKeysListed(VersionListing.Page page) {
        return page.keys().stream().mapToLong(k -> k.versions().size()).sum();
    }

    /** The job's sites: those asked for, or every site of the bucket's rules, that this deployment serves. */
    private List<String> sitesOf(BackfillJob job, ReplicationConfiguration rules) {
        Set<String> sites = new LinkedHashSet<>(job.sites().isEmpty() ? rules.sites() : job.sites());
        sites.retainAll(configuredSites);
        return sites.stream().sorted().toList();
    }

    /** The version, if a rule sends it to one of the job's sites (tags read only for rules that filter on them). */
    private java.util.Optional<BackfillPage.PageVersion> select(String bucket, ReplicationConfiguration rules, List<String> sites,
                                                               ListedVersion l) {
        Map<String, String> tags = Map.of();
        if (!l.deleteMarker() && rules.needsTagsFor(l.key())) {
            try {
                tags = new HashMap<>();
                for (var t : source.getObjectTagging(r -> r.bucket(bucket).key(l.key()).versionId(l.versionId())).tagSet()) {
                    tags.put(t.key(), t.value());
                }
            } catch (NoSuchKeyException gone) {
                return java.util.Optional.empty(); // deleted since it was listed: nothing to replicate
            } catch (S3Exception e) {
                if (e.statusCode() == 404) {
                    return java.util.Optional.empty();
                }
                throw e;
            }
        }
        ReplicationRule rule = rules.ruleFor(l.key(), tags).orElse(null);
        if (rule == null || (l.deleteMarker() && !rule.deleteMarkerReplication()) || rule.sites().stream().noneMatch(sites::contains)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new BackfillPage.PageVersion(l.key(), entryVersionId.apply(l.versionId()), l.size(), l.eTag(),
                l.lastModified() == null ? null : l.lastModified().toString(), l.deleteMarker(), rules.rules().indexOf(rule), tags));
    }

    private void countQueued(BackfillPage page, ReplicationConfiguration rules) {
        Map<String, Counters> bySite = new HashMap<>();
        for (BackfillPage.PageVersion v : page.versions()) {
            for (String site : rules.rules().get(v.rule()).sites()) {
                if (page.sites().contains(site)) {
                    bySite.merge(site, Counters.queued(1, v.size()), Counters::plus);
                }
            }
        }
        bySite.forEach((site, counters) -> metrics.add(site, clock.instant(), counters));
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
