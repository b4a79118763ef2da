package io.backbeatserverless.replicator;

import io.backbeatserverless.core.backfill.BackfillPage;
import io.backbeatserverless.core.backfill.PageDiff;
import io.backbeatserverless.core.backfill.PageOutcome;
import io.backbeatserverless.core.concurrent.BoundedTasks;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.versions.ListedVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * One site's replicator on a backfill page (issue 29): the site is listed over the page's key range once, {@link PageDiff}
 * says which keys are missing there, their versions are copied in order with no look per version, and the other keys go
 * one version at a time through the live path ({@link OneVersion}); keys in parallel, at most {@code keyConcurrency}. The
 * answer is one {@link PageOutcome}, plus an outcome of its own for each version not COMPLETED (FAILED or SKIPPED with
 * its reason, for the failed list and the retry). Keys not started by the deadline, and the rest of a key whose version
 * was deferred, are the page's remainder: the next part, for this site alone.
 */
final class PageReplicator {

    private static final Logger LOG = LoggerFactory.getLogger(PageReplicator.class);

    /** The live path for one version: its outcome, or null when it was deferred at the deadline. */
    interface OneVersion {
        StatusEntry replicate(ReplicationEntry entry, Instant stopAt);
    }

    /** What a page came to at this site: the outcome, the versions' own outcomes when not COMPLETED, the remainder if any. */
    record Result(PageOutcome outcome, List<StatusEntry> notCompleted, BackfillPage remainder) {
    }

    private final String site;
    private final OneVersion oneByOne;
    private final PageSite pageSite;
    private final int keyConcurrency;
    private final long wholeCopyLimit;
    private final Clock clock;

    /** @param pageSite null: a site without listing diffs (every version one at a time) */
    PageReplicator(String site, OneVersion oneByOne, PageSite pageSite, int keyConcurrency, long wholeCopyLimit, Clock clock) {
        this.site = site;
        this.oneByOne = oneByOne;
        this.pageSite = pageSite;
        this.keyConcurrency = keyConcurrency;
        this.wholeCopyLimit = wholeCopyLimit;
        this.clock = clock;
    }

    /** @param copiedOntoEmpty the versions copied in order onto a key the site had nothing of (null: none), to look at again */
    private record KeyResult(long completed, long bytes, List<StatusEntry> notCompleted, List<BackfillPage.PageVersion> deferred,
                             List<BackfillPage.PageVersion> copiedOntoEmpty) {

        KeyResult(long completed, long bytes, List<StatusEntry> notCompleted, List<BackfillPage.PageVersion> deferred) {
            this(completed, bytes, notCompleted, deferred, null);
        }
    }

    Result replicate(BackfillPage page, Instant stopAt) {
        ReplicationConfiguration configuration = page.configuration();
        List<BackfillPage.PageVersion> versions = page.versionsFor(site, configuration);
        String now = clock.instant().toString();
        Map<String, ReplicationEntry> entries = new LinkedHashMap<>();
        for (BackfillPage.PageVersion v : versions) {
            entries.put(v.ref(), entryOf(page, configuration, v, now));
        }
        Map<String, List<ListedVersion>> atSite = siteHistories(page, entries.values());
        List<PageDiff.KeyPlan> plans = atSite == null ? PageDiff.oneByOne(versions) : PageDiff.plan(versions, atSite, wholeCopyLimit,
                page.listedAt() == null ? null : Instant.parse(page.listedAt()));
        // Where several source buckets write the same keys at the site, another bucket's replicas of the same keys and bytes
        // look, in a listing, like this page's own (the CloudServer benchmark's backfill runs into one bucketMatch site
        // bucket copied next to nothing): what a listing finds there is asked whose replica it is before it counts.
        boolean identityUnlisted = pageSite != null && pageSite.keysSharedBySourceBuckets();
        List<Callable<KeyResult>> tasks = new ArrayList<>();
        for (PageDiff.KeyPlan plan : plans) {
            boolean ask = plan.plan() == PageDiff.Plan.ASK_THE_SITE || (identityUnlisted && plan.atSite() > 0);
            tasks.add(() -> replicateKey(ask ? askTheSite(page, plan, entries, atSite) : plan, entries, stopAt));
        }
        long completed = 0;
        long bytes = 0;
        List<StatusEntry> notCompleted = new ArrayList<>();
        List<BackfillPage.PageVersion> deferred = new ArrayList<>();
        Map<String, List<BackfillPage.PageVersion>> copiedOntoEmpty = new LinkedHashMap<>();
        for (KeyResult r : BoundedTasks.run(tasks, keyConcurrency)) {
            completed += r.completed();
            bytes += r.bytes();
            notCompleted.addAll(r.notCompleted());
            deferred.addAll(r.deferred());
            if (r.copiedOntoEmpty() != null) {
                copiedOntoEmpty.put(r.copiedOntoEmpty().getFirst().key(), r.copiedOntoEmpty());
            }
        }
        if (!copiedOntoEmpty.isEmpty()) {
            notCompleted.addAll(putMarkersBackOnTop(page, configuration, entries, copiedOntoEmpty));
        }
        long failed = notCompleted.stream().filter(s -> s.status() == ReplicationStatus.FAILED).count();
        PageOutcome outcome = new PageOutcome(page.jobId(), page.number(), page.part(), page.bucket(), page.throughKey(), site, completed,
                bytes, failed, notCompleted.size() - failed,
                notCompleted.stream().map(s -> BackfillPage.PageVersion.ref(s.versionKey().objectKey(), s.versionKey().versionId())).toList(),
                deferred.stream().map(BackfillPage.PageVersion::ref).toList(), clock.instant().toString());
        LOG.info("site {}: backfill {} page {}.{} of {}: {} versions, {} completed, {} failed, {} skipped, {} put back ({} keys listed at the site)",
                site, page.jobId(), page.number(), page.part(), page.bucket(), versions.size(), completed, failed, outcome.skipped(),
                deferred.size(), atSite == null ? "no" : atSite.size());
        return new Result(outcome, notCompleted, deferred.isEmpty() ? null : page.remainderFor(site, deferred));
    }

    /**
     * What the site has of the page's keys, by one listing of its range per destination bucket; null when the site cannot
     * be listed (or is not a site that can be), whose keys then go one version at a time.
     */
    private Map<String, List<ListedVersion>> siteHistories(BackfillPage page, java.util.Collection<ReplicationEntry> entries) {
        if (pageSite == null || entries.isEmpty()) {
            return null;
        }
        Map<String, List<ListedVersion>> present = new java.util.HashMap<>();
        Set<String> buckets = new java.util.LinkedHashSet<>();
        entries.forEach(e -> buckets.add(pageSite.destinationBucket(e)));
        for (String bucket : buckets) {
            if (bucket == null || bucket.isBlank()) {
                return null; // the live path says why (no bucket)
            }
            try {
                present.putAll(pageSite.siteHistories(page.bucket(), bucket, page.prefix(), page.afterKey(), page.throughKey()));
            } catch (Exception e) {
                LOG.warn("site {}: listing bucket {} for backfill page {}/{} failed, its versions go one at a time: {}", site, bucket,
                        page.jobId(), page.number(), e.toString());
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                return null;
            }
        }
        return present;
    }

    /** A key the listings cannot decide, planned by whose replica each of its site entries is; one at a time if that fails. */
    private PageDiff.KeyPlan askTheSite(BackfillPage page, PageDiff.KeyPlan plan, Map<String, ReplicationEntry> entries,
                                        Map<String, List<ListedVersion>> atSite) {
        List<ListedVersion> siteEntries = atSite.getOrDefault(plan.key(), List.of());
        try {
            String bucket = pageSite.destinationBucket(entries.get(plan.versions().getFirst().ref()));
            return PageDiff.planByReplicas(plan, siteEntries, pageSite.replicaOf(bucket, page.bucket(), plan.key(), siteEntries), wholeCopyLimit);
        } catch (Exception e) {
            return new PageDiff.KeyPlan(plan.key(), plan.versions(), PageDiff.Plan.ONE_BY_ONE, 0, null);
        }
    }

    private KeyResult replicateKey(PageDiff.KeyPlan plan, Map<String, ReplicationEntry> entries, Instant stopAt) {
        if (stopAt != null && !clock.instant().isBefore(stopAt)) {
            return new KeyResult(0, 0, List.of(), plan.versions());
        }
        List<ReplicationEntry> history = plan.versions().stream().map(v -> entries.get(v.ref())).toList();
        long completed = 0;
        long bytes = 0;
        int from = 0;
        if (plan.plan() == PageDiff.Plan.ALREADY_THERE) {
            return new KeyResult(history.size(), 0, List.of(), List.of());
        }
        List<BackfillPage.PageVersion> copiedOntoEmpty = null;
        if (plan.plan() == PageDiff.Plan.COPY_IN_ORDER) {
            PageSite.InOrder inOrder = pageSite.copyInOrder(history.subList(plan.atSite(), history.size()), plan.currentETag());
            completed = plan.atSite() + inOrder.done();
            bytes = inOrder.bytes();
            from = plan.atSite() + inOrder.done();
            if (LOG.isDebugEnabled()) { // once per key of a page: nothing built for it at INFO
                LOG.debug("site {}: {}: {} of {} versions copied in order onto {} (first {})", site, plan.key(), inOrder.done(),
                        history.size() - plan.atSite(), plan.currentETag() == null ? "an empty key" : "ETag " + plan.currentETag(),
                        history.get(plan.atSite()).versionId());
            }
            if (plan.atSite() == 0 && plan.currentETag() == null && inOrder.done() > 0) {
                copiedOntoEmpty = plan.versions().subList(0, inOrder.done());
            }
        }
        List<StatusEntry> notCompleted = new ArrayList<>();
        for (int i = from; i < history.size(); i++) {
            StatusEntry outcome = oneByOne.replicate(history.get(i), stopAt);
            if (outcome == null) {
                return new KeyResult(completed, bytes, notCompleted, plan.versions().subList(i, plan.versions().size()));
            }
            if (outcome.status() == ReplicationStatus.COMPLETED) {
                completed++;
                bytes += outcome.bytes();
            } else {
                notCompleted.add(outcome);
            }
        }
        return new KeyResult(completed, bytes, notCompleted, List.of(), copiedOntoEmpty);
    }

    /**
     * The keys the page copied onto an empty key at the site, looked at again. The first copy's condition, S3's
     * {@code If-None-Match: *}, lets a key whose current entry is a delete marker pass for one with no object (the S3 User
     * Guide's conditional writes check for an object at the key, and a delete marker is none; the local servers do the
     * same), so a marker the live path wrote there between the page's listing and that copy ends up beneath the page's
     * versions, and the site's latest is a version where the source's is a marker (found by the chaos run of a backfill
     * beside live deletes: a delete marker missing at a site while its status said COMPLETED). One listing of the page's
     * range shows it: such a key's site history does not begin with the versions the page copied. The source's newest
     * entry, when a delete marker, then goes through the live path again, whose count of the markers due above the
     * site's newest replica puts them back on top. A failure to is answered as that marker's own outcome (FAILED
     * with its reason, in the failed list, retryable).
     */
    private List<StatusEntry> putMarkersBackOnTop(BackfillPage page, ReplicationConfiguration configuration,
                                                  Map<String, ReplicationEntry> entries,
                                                  Map<String, List<BackfillPage.PageVersion>> copiedOntoEmpty) {
        Map<String, List<ListedVersion>> atSite = siteHistories(page, entries.values());
        if (atSite == null) {
            LOG.warn("site {}: backfill {} page {}.{}: the site could not be listed again after the page's copies, {} keys copied onto"
                    + " empty keys not looked at again (verify tells whether a live delete marker went beneath them)", site,
                    page.jobId(), page.number(), page.part(), copiedOntoEmpty.size());
            return List.of();
        }
        List<StatusEntry> notCompleted = new ArrayList<>();
        String now = clock.instant().toString();
        copiedOntoEmpty.forEach((key, copied) -> {
            List<ListedVersion> history = atSite.getOrDefault(key, List.of());
            if (PageDiff.sameEntries(copied, history) == copied.size()) {
                return;
            }
            try {
                var marker = pageSite.newestSourceMarkerAbove(page.bucket(), key, copied.getLast().versionId());
                LOG.warn("site {}: backfill {} page {}.{}: {}/{} has {} entries at the site beneath the page's copies (a live write came"
                        + " first); above the page's versions the source has {}", site, page.jobId(), page.number(), page.part(), page.bucket(),
                        key, history.size() - copied.size(), marker.map(m -> "delete marker " + m + ": replicated again").orElse("no delete marker"));
                if (marker.isPresent()) {
                    BackfillPage.PageVersion newest = new BackfillPage.PageVersion(key, marker.get(), 0, null, null, true,
                            copied.getLast().rule(), Map.of());
                    StatusEntry outcome = oneByOne.replicate(entryOf(page, configuration, newest, now), null);
                    if (outcome != null && outcome.status() == ReplicationStatus.FAILED) {
                        notCompleted.add(outcome);
                    }
                }
            } catch (Exception e) {
                LOG.warn("site {}: backfill {} page {}.{}: {}/{} not looked at again: {} (verify tells)", site, page.jobId(), page.number(),
                        page.part(), page.bucket(), key, e.toString());
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        return notCompleted;
    }

    /** A page's version as the live path's entry for this site. */
    private ReplicationEntry entryOf(BackfillPage page, ReplicationConfiguration configuration, BackfillPage.PageVersion v, String now) {
        return new ReplicationEntry(ReplicationEntry.TYPE_PUT, page.bucket(), new VersionKey(v.key(), v.versionId()),
                v.metadata(configuration).onlySite(site), new ReplicationEntry.OverheadFields(v.lastModified(), now, v.versionId()));
    }
}
