package io.backbeatserverless.verifier;

import io.backbeatserverless.adapters.aws.BucketRules;
import io.backbeatserverless.adapters.aws.VersionListing;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.backfill.BackfillJob;
import io.backbeatserverless.core.backfill.BackfillJobStore;
import io.backbeatserverless.core.backfill.PageDiff;
import io.backbeatserverless.core.concurrent.BoundedTasks;
import io.backbeatserverless.core.ops.Requeue;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationRule;
import io.backbeatserverless.core.status.ReplicationStatusStore;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.core.status.VersionStatus;
import io.backbeatserverless.core.verify.Finding;
import io.backbeatserverless.core.verify.InventoryDiff;
import io.backbeatserverless.core.verify.InventoryWalk;
import io.backbeatserverless.core.verify.KeyAudit;
import io.backbeatserverless.core.verify.SiteCounts;
import io.backbeatserverless.core.verify.VerifyRequest;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.core.verify.VersionDetails;
import io.backbeatserverless.core.versions.KeyVersions;
import io.backbeatserverless.core.versions.ListedVersion;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;

/**
 * Walks a verify run one step at a time: first it counts the versions of the run's buckets (for its
 * progress), then, a page of whole keys at a time, it reads each key's history at the source and the replica
 * key's history at every site the bucket's rules send it to, reads the details of what it must compare
 * (HEAD and tags, rate-limited), and judges each key at each site with {@link KeyAudit}. With repair on, what
 * is missing, divergent or stuck is queued again through {@link Requeue}, or, where a page holds many missing
 * versions for a site, left to a backfill job the run starts for the bucket and site. A step's outcome is the run as it
 * stands after it and the findings of the step: the caller saves both, so a run resumes after its last step.
 */
public final class VerifyEngine {

    /** Requests made at once for one step (each waits for the rate limiter's permit too). */
    private static final int CONCURRENCY = 16;
    /** Listing requests read this many entries; a listing is cheap next to the HEADs that follow it. */
    private static final int LISTING_PAGE = 1000;
    private static final int COUNTING_PAGES = 10;
    /**
     * A repairing run hands a site's missing versions to a backfill job (issue 29: verify --repair at scale) from the
     * first page that has this many for it (a fifth of verify's default page of 500 versions): past that, a job's two
     * listings and conditional copies a page cost less than a status record, an entry and an outcome per version.
     */
    public static final int REPAIR_BY_JOB_AT = 100;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(VerifyEngine.class);

    private final VersionStore source;
    private final Map<String, VersionStore> sites;
    private final Map<String, SiteConfig> siteConfigs;
    private final BucketRules rules;
    private final ReplicationStatusStore statuses;
    private final Requeue requeue;
    private final RepairEntries repairEntries;
    private final UnaryOperator<String> statusVersionId;
    private final Map<String, Boolean> compareEtags;
    private final int pageSize;
    private final Clock clock;
    /** Where a repair at scale starts its backfill job; null: repairs go one version at a time. */
    private final BackfillJobStore jobs;
    /** The inventory reports big buckets are checked by (issue 29); null: every bucket by its listings. */
    private final InventoryInput inventories;
    /** The repair jobs known to exist (a cache of {@link #jobs}: a run's later pages need not read it again). */
    private final Set<String> repairJobs = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * @param statusVersionId the status table's spelling of a version id the source's S3 API lists (CloudServer: internal ids)
     * @param compareEtags    per site: whether its ETags are content MD5s
     */
    VerifyEngine(VersionStore source, Map<String, VersionStore> sites, Collection<SiteConfig> siteConfigs, BucketRules rules,
                        ReplicationStatusStore statuses, Requeue requeue, RepairEntries repairEntries,
                        UnaryOperator<String> statusVersionId, Map<String, Boolean> compareEtags, int pageSize, BackfillJobStore jobs,
                        InventoryInput inventories, Clock clock) {
        this.source = source;
        this.sites = Map.copyOf(sites);
        this.siteConfigs = new LinkedHashMap<>();
        siteConfigs.forEach(s -> this.siteConfigs.put(s.name(), s));
        this.rules = rules;
        this.statuses = statuses;
        this.requeue = requeue;
        this.repairEntries = repairEntries;
        this.statusVersionId = statusVersionId;
        this.compareEtags = Map.copyOf(compareEtags);
        this.pageSize = pageSize;
        this.jobs = jobs;
        this.inventories = inventories;
        this.clock = clock;
    }

    /** The run after one more step, and what that step found. */
    public record Step(VerifyRun run, List<Finding> findings) {
    }

    public Step step(VerifyRun run) {
        if (run.phase() == VerifyRun.Phase.COUNTING && run.totalVersions() < 0) {
            return new Step(withBuckets(run), List.of());
        }
        return switch (run.phase()) {
            case COUNTING -> new Step(count(run), List.of());
            case VERIFYING -> verify(run);
            default -> new Step(run, List.of());
        };
    }

    /** The run's buckets: the one asked for, or every bucket of the source with a replication configuration. */
    private VerifyRun withBuckets(VerifyRun run) {
        List<String> buckets = run.request().bucket() != null ? List.of(run.request().bucket())
                : source.buckets().stream().filter(b -> {
            BucketRules.Lookup lookup = rules.lookup(b);
            return lookup.rules() != null || lookup.invalid();
        }).toList();
        return new VerifyRun(run.id(), run.request(), VerifyRun.Phase.COUNTING, run.createdAt(), clock.instant(), null, buckets, 0,
                null, 0, 0, 0, run.bySite(), run.findings(), run.problems(), null, List.of(), null);
    }

    private VerifyRun count(VerifyRun run) {
        String bucket = run.bucket();
        if (bucket == null) {
            return new VerifyRun(run.id(), run.request(), VerifyRun.Phase.VERIFYING, run.createdAt(), clock.instant(), null,
                    run.buckets(), 0, null, run.totalVersions(), 0, 0, run.bySite(), run.findings(), run.problems(), null,
                    run.byInventory(), null);
        }
        // Up to COUNTING_PAGES listing pages a step: the count is a listing and an addition, and a step's save and lease
        // renewal cost as much as a page's listing.
        String afterKey = run.afterKey();
        long counted = 0;
        boolean done = false;
        for (int pages = 0; pages < COUNTING_PAGES && !done; pages++) {
            VersionListing.Page page;
            try {
                page = source.listing().page(bucket, run.request().prefix(), afterKey, LISTING_PAGE);
            } catch (software.amazon.awssdk.services.s3.model.NoSuchBucketException gone) {
                page = new VersionListing.Page(List.of(), afterKey, true, 0);
            }
            counted += page.keys().stream().mapToLong(k -> k.versions().size()).sum();
            afterKey = page.lastKey();
            done = page.done();
        }
        // A bucket counted to the configured size, whose source has an inventory report, is checked by its reports: the
        // rest of it is not counted (a bucket of a billion versions would take a million listings), and its report's rows
        // count into the progress as they are read.
        long bucketCounted = run.keys() + counted;
        List<String> byInventory = new ArrayList<>(run.byInventory());
        if (inventories != null && bucketCounted >= inventories.fromVersions() && inventories.sourceReport(bucket).isPresent()) {
            LOG.info("verify {}: bucket '{}' has {}{} versions, checked by its inventory reports", run.id(), bucket, bucketCounted,
                    done ? "" : " or more");
            byInventory.add(bucket);
            done = true;
        }
        // While counting, keys holds the versions counted so far in the bucket being counted (for that threshold).
        return new VerifyRun(run.id(), run.request(), run.phase(), run.createdAt(), clock.instant(), null, run.buckets(),
                done ? run.bucketIndex() + 1 : run.bucketIndex(), done ? null : afterKey,
                run.totalVersions() + counted, 0, done ? 0 : bucketCounted, run.bySite(), run.findings(), run.problems(), null,
                byInventory, null);
    }

    /**
     * Multipart uploads at a site started longer ago than the stuck threshold and still in progress: a resumable copy's
     * (kept until its copy resumes, up to {@code replicator.resumableUploadHours}) or an abandoned one, whose parts the
     * site stores and bills until the upload is aborted. Said once per bucket and site, with the oldest few.
     */
    private java.util.Optional<String> oldUploads(Target target, String prefix, java.time.Duration olderThan) {
        Instant cutoff = clock.instant().minus(olderThan);
        List<software.amazon.awssdk.services.s3.model.MultipartUpload> old;
        try {
            old = sites.get(target.site().name()).uploadsStartedBefore(target.bucket(), prefix, cutoff);
        } catch (software.amazon.awssdk.core.exception.SdkException e) {
            return java.util.Optional.of("site '" + target.site().name() + "', bucket '" + target.bucket()
                    + "': uploads in progress not checked: " + e.getMessage());
        }
        if (old.isEmpty()) {
            return java.util.Optional.empty();
        }
        String listed = old.stream().sorted(java.util.Comparator.comparing(software.amazon.awssdk.services.s3.model.MultipartUpload::initiated))
                .limit(5).map(u -> "'" + u.key() + "' upload " + u.uploadId() + " started " + u.initiated())
                .collect(java.util.stream.Collectors.joining(", "));
        return java.util.Optional.of("site '" + target.site().name() + "', bucket '" + target.bucket() + "': " + old.size()
                + " multipart upload(s) in progress for more than " + olderThan.toMinutes() + " min (" + listed + (old.size() > 5 ? ", ..." : "")
                + "): a copy that resumes keeps its upload for up to replicator.resumableUploadHours, any other is abandoned and its"
                + " parts are stored and billed until it is aborted (aws s3api abort-multipart-upload, or an AbortIncompleteMultipartUpload"
                + " lifecycle rule: docs/operations.md)");
    }

    /** Where one site keeps a bucket's replicas: its bucket there, and its keys' prefix. */
    private record Target(SiteConfig site, String bucket) {
        String keyPrefix(String sourceBucket) {
            return SiteConfig.TYPE_SCALITY.equals(site.type()) || site.bucketMatch() ? "" : sourceBucket + "/";
        }
    }

    private Step verify(VerifyRun run) {
        String bucket = run.bucket();
        if (bucket == null) {
            return new Step(run.with(VerifyRun.Phase.DONE, clock.instant()), List.of());
        }
        VerifyRequest request = run.request();
        List<String> problems = new ArrayList<>(run.problems());
        BucketRules.Lookup lookup = rules.lookup(bucket);
        if (lookup.rules() == null) {
            problems.add("bucket '" + bucket + "' not checked: " + (lookup.invalid()
                    ? "its replication configuration is invalid: " + lookup.problem() : "it has no replication configuration"));
            return new Step(nextBucket(run, run.bySite(), run.findings(), problems, 0, 0), List.of());
        }
        ReplicationConfiguration config = lookup.rules();
        boolean bucketStart = run.afterKey() == null && run.inventory() == null;
        Map<String, Target> targets = targets(bucket, config, request, bucketStart ? problems : new ArrayList<>());
        if (bucketStart) {
            for (Target target : new LinkedHashSet<>(targets.values())) {
                oldUploads(target, target.keyPrefix(bucket) + request.prefix(), request.stuckAfter()).ifPresent(problems::add);
            }
        }
        if (run.byInventory().contains(bucket) && inventories != null) {
            return byInventory(run, bucket, config, targets, problems);
        }
        VersionListing.Page page;
        try {
            page = source.listing().page(bucket, request.prefix(), run.afterKey(), pageSize);
        } catch (software.amazon.awssdk.services.s3.model.NoSuchBucketException gone) {
            problems.add("bucket '" + bucket + "' not checked: it does not exist at the source");
            return new Step(nextBucket(run, run.bySite(), run.findings(), problems, 0, 0), List.of());
        }
        Audited audited = auditPage(run, bucket, request, config, targets, run.afterKey(), page, run.bySite());
        long scanned = page.keys().stream().mapToLong(k -> k.versions().size()).sum();
        VerifyRun after = page.done() ? nextBucket(run, audited.bySite(), run.findings() + audited.findings().size(), problems, scanned,
                page.keys().size())
                : new VerifyRun(run.id(), request, run.phase(), run.createdAt(), clock.instant(), null, run.buckets(), run.bucketIndex(),
                page.lastKey(), run.totalVersions(), run.scanned() + scanned, run.keys() + page.keys().size(), audited.bySite(),
                run.findings() + audited.findings().size(), problems, null, run.byInventory(), null);
        return new Step(after, audited.findings());
    }

    /** Rows of reports per shard, compressed: a shard is compared in one step, its rows in memory (about a million). */
    static final long SHARD_BYTES = 32L * 1024 * 1024;
    private static final int MAX_SHARDS = 4096;

    /**
     * One step of a bucket checked by its inventory reports (issue 29): first the reports are found (the source's and each
     * site bucket's newest), then each data file is split into shards by key hash (a step a file), then each shard is
     * compared ({@link InventoryDiff}), and the keys the reports cannot decide are audited live, as a listed bucket's keys
     * are, a page of them a step. A bucket whose reports are not all there is checked by its listings instead.
     */
    private Step byInventory(VerifyRun run, String bucket, ReplicationConfiguration config, Map<String, Target> targets,
                             List<String> problems) {
        InventoryWalk walk = run.inventory();
        if (walk == null) {
            return new Step(startInventoryWalk(run, bucket, targets, problems), List.of());
        }
        if (walk.filesDone() < walk.files()) {
            return new Step(splitFile(run, bucket, walk, problems), List.of());
        }
        if (walk.shardsDone() < walk.shards()) {
            return compareShard(run, bucket, config, targets, walk, problems);
        }
        return new Step(nextBucket(run, run.bySite(), run.findings(), problems, 0, 0), List.of());
    }

    private VerifyRun startInventoryWalk(VerifyRun run, String bucket, Map<String, Target> targets, List<String> problems) {
        List<InventoryWalk.Report> reports = new ArrayList<>();
        var sourceReport = inventories.sourceReport(bucket);
        long bytes = 0;
        String missing = null;
        if (sourceReport.isPresent()) {
            reports.add(new InventoryWalk.Report(null, bucket, inventories.sourceLocation(), sourceReport.get().manifestKey(),
                    sourceReport.get().files().size()));
            bytes += sourceReport.get().bytes();
        } else {
            missing = "the source has no inventory report of it any more";
        }
        for (Target target : new LinkedHashSet<>(targets.values())) {
            String site = target.site().name();
            var report = inventories.siteReport(site, target.bucket());
            if (report.isEmpty()) {
                missing = "site '" + site + "' has no inventory report of bucket '" + target.bucket() + "'";
                break;
            }
            reports.add(new InventoryWalk.Report(site, target.bucket(), inventories.siteLocation(site), report.get().manifestKey(),
                    report.get().files().size()));
            bytes += report.get().bytes();
        }
        List<String> byInventory = new ArrayList<>(run.byInventory());
        if (missing != null) {
            // Checked by its listings, from its first key: a report that is not there cannot say which keys are identical.
            LOG.warn("verify {}: bucket '{}' checked by its listings: {}", run.id(), bucket, missing);
            byInventory.remove(bucket);
            // The problems this step found are found again by the bucket's first listed step.
            return new VerifyRun(run.id(), run.request(), run.phase(), run.createdAt(), clock.instant(), null, run.buckets(),
                    run.bucketIndex(), null, run.totalVersions(), run.scanned(), run.keys(), run.bySite(), run.findings(), run.problems(),
                    null, byInventory, null);
        }
        int shards = (int) Math.min(MAX_SHARDS, Math.max(1, (bytes + SHARD_BYTES - 1) / SHARD_BYTES));
        LOG.info("verify {}: bucket '{}' by {} inventory reports ({} bytes in {} data files), in {} shards", run.id(), bucket,
                reports.size(), bytes, reports.stream().mapToInt(InventoryWalk.Report::files).sum(), shards);
        return withWalk(run, problems, new InventoryWalk(reports, shards, 0, 0, null, 0), 0, run.bySite(), run.findings());
    }

    private VerifyRun withWalk(VerifyRun run, List<String> problems, InventoryWalk walk, long scanned, Map<String, SiteCounts> bySite,
                               long findings) {
        return new VerifyRun(run.id(), run.request(), run.phase(), run.createdAt(), clock.instant(), null, run.buckets(), run.bucketIndex(),
                null, run.totalVersions(), run.scanned() + scanned, run.keys(), bySite, findings, problems, null, run.byInventory(), walk);
    }

    /** Splits the walk's next data file into its shards' fragments (rows of other prefixes or of other buckets' replicas left out). */
    private VerifyRun splitFile(VerifyRun run, String bucket, InventoryWalk walk, List<String> problems) {
        int index = walk.filesDone();
        int reportIndex = 0;
        int first = 0;
        while (index >= first + walk.reports().get(reportIndex).files()) {
            first += walk.reports().get(reportIndex).files();
            reportIndex++;
        }
        InventoryWalk.Report report = walk.reports().get(reportIndex);
        var manifest = inventories.report(report.site(), report.location(), report.manifestKey());
        String keyPrefix = report.site() == null ? "" : targetOf(report).keyPrefix(bucket);
        String wanted = keyPrefix + run.request().prefix();
        long[] rows = {0};
        InventoryInput.ShardWriter shards = inventories.shardWriter(run.id(), bucket, index, reportIndex, walk.shards());
        inventories.readerFor(report.site()).read(manifest, manifest.files().get(index - first), row -> {
            if (row.key().startsWith(wanted)) {
                shards.add(row.key().substring(keyPrefix.length()), row);
                rows[0]++;
            }
        });
        shards.write(); // only once the file is read whole and its MD5 checked
        long sourceRows = report.site() == null ? rows[0] : 0;
        return withWalk(run, problems, walk.withFileSplit(sourceRows), 0, run.bySite(), run.findings());
    }

    private Target targetOf(InventoryWalk.Report report) {
        return new Target(siteConfigs.get(report.site()), report.bucket());
    }

    /** How many of a shard's candidate keys one step audits live (each a listing at the source and one per site). */
    private static final int CANDIDATES_PER_STEP = 200;

    /**
     * Compares one shard: per site, the keys whose entries the reports show the same on both sides count as identical (once,
     * at the shard's first step); the others are audited live, {@value #CANDIDATES_PER_STEP} a step.
     */
    private Step compareShard(VerifyRun run, String bucket, ReplicationConfiguration config, Map<String, Target> targets,
                              InventoryWalk walk, List<String> problems) {
        int shard = walk.shardsDone();
        Map<Integer, Map<String, List<ListedVersion>>> rows = inventories.readShard(run.id(), bucket, shard);
        Map<String, List<ListedVersion>> sourceRows = rows.getOrDefault(0, Map.of()); // the source's report is the walk's first
        boolean firstStep = walk.candidateAfter() == null;
        Map<String, SiteCounts> bySite = new LinkedHashMap<>(run.bySite());
        Map<String, Set<Target>> candidates = new TreeMap<>(KeyVersions.KEY_ORDER);
        for (int i = 0; i < walk.reports().size(); i++) {
            InventoryWalk.Report report = walk.reports().get(i);
            if (report.site() == null) {
                continue;
            }
            Target target = targetOf(report);
            InventoryDiff.ShardVerdict verdict = InventoryDiff.judge(sourceRows, rows.getOrDefault(i, Map.of()), config, report.site());
            verdict.candidates().forEach(key -> candidates.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(target));
            if (firstStep) {
                bySite.merge(report.site(), new SiteCounts(verdict.identical(), verdict.identical(), 0, 0, 0, 0, 0, 0, 0, 0, 0), SiteCounts::plus);
            }
        }
        List<String> thisStep = candidates.keySet().stream()
                .filter(k -> firstStep || KeyVersions.KEY_ORDER.compare(k, walk.candidateAfter()) > 0).limit(CANDIDATES_PER_STEP).toList();
        List<Finding> findings = new ArrayList<>();
        for (String key : thisStep) {
            Audited audited = auditKey(run, bucket, config, candidates.get(key), key, bySite);
            bySite = new LinkedHashMap<>(audited.bySite());
            findings.addAll(audited.findings());
        }
        long scanned = firstStep ? sourceRows.values().stream().mapToLong(List::size).sum() : 0;
        boolean more = !thisStep.isEmpty() && candidates.keySet().stream().anyMatch(k -> KeyVersions.KEY_ORDER.compare(k, thisStep.getLast()) > 0);
        InventoryWalk after;
        if (more) {
            after = walk.withCandidatesAuditedThrough(thisStep.getLast());
        } else {
            inventories.removeShard(run.id(), bucket, shard);
            after = walk.withShardDone();
        }
        LOG.info("verify {}: bucket '{}' shard {}/{}: {} keys, {} to read live, {} read this step", run.id(), bucket, shard + 1, walk.shards(),
                sourceRows.size(), candidates.size(), thisStep.size());
        return new Step(withWalk(run, problems, after, scanned, bySite, run.findings() + findings.size()), findings);
    }

    /** One key the reports could not decide, audited live at the sites where they could not: as a page of that key alone. */
    private Audited auditKey(VerifyRun run, String bucket, ReplicationConfiguration config, Set<Target> at, String key,
                             Map<String, SiteCounts> countsBefore) {
        VerifyRequest request = run.request();
        VerifyRequest oneKey = new VerifyRequest(request.bucket(), request.sites(), key, request.repair(), request.stuckAfter(),
                request.deep(), request.sample());
        List<KeyVersions> listed = source.listing().range(bucket, key, null, key, LISTING_PAGE).stream()
                .filter(k -> k.key().equals(key)).toList();
        VersionListing.Page page = new VersionListing.Page(listed, key, false, listed.stream().mapToInt(k -> k.versions().size()).sum());
        Map<String, Target> targets = new LinkedHashMap<>();
        at.forEach(t -> targets.put(t.site().name() + "\u0000" + t.bucket(), t));
        return auditPage(run, bucket, oneKey, config, targets, null, page, countsBefore);
    }

    /** A page's audit: each site's counts after it, and what it found (its repairs queued). */
    private record Audited(Map<String, SiteCounts> bySite, List<Finding> findings) {
    }

    /**
     * Audits the keys of {@code page} (a source listing of whole keys after {@code afterKey}) at each of {@code targets}:
     * the sites' listings of the same range, the statuses where the listings cannot decide, HEADs of the keys read whole;
     * with repair on, queues what is missing, divergent or stuck again (or leaves it to a backfill job).
     */
    private Audited auditPage(VerifyRun run, String bucket, VerifyRequest request, ReplicationConfiguration config,
                              Map<String, Target> targets, String afterKey, VersionListing.Page page, Map<String, SiteCounts> countsBefore) {
        // What belongs where: each source entry's sites (its rule's, among those checked), with the details it is compared by.
        Map<Target, Map<String, List<ListedVersion>>> expectedByTargetAndKey = new HashMap<>();
        Map<String, VersionDetails> sourceDetails = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, ReplicationRule> ruleOf = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, Map<String, String>> tagsOf = new java.util.concurrent.ConcurrentHashMap<>();
        List<Callable<Void>> reads = new ArrayList<>();
        for (KeyVersions key : page.keys()) {
            boolean whole = request.readsWhole(key.key());
            for (ListedVersion v : key.versions()) {
                reads.add(() -> {
                    selectAndRead(bucket, config, v, ruleOf, tagsOf, sourceDetails, whole);
                    return null;
                });
            }
        }
        parallel(reads);
        for (KeyVersions key : page.keys()) {
            for (ListedVersion v : key.versions()) {
                ReplicationRule rule = ruleOf.get(id(v));
                if (rule == null) {
                    continue;
                }
                for (String site : rule.sites()) {
                    Target target = targets.get(site + "\u0000" + destinationBucket(site, rule));
                    if (target != null) {
                        expectedByTargetAndKey.computeIfAbsent(target, t -> new HashMap<>())
                                .computeIfAbsent(key.key(), k -> new ArrayList<>()).add(v);
                    }
                }
            }
        }
        // Each site's replica keys in the page's range, audited first without the statuses: a key whose every expected
        // entry is at the site is decided by the listings alone. Only the keys where one is not (its verdict rests on its
        // recorded status, or its age) have their statuses read, and their site is listed again after that read: a
        // version whose status is COMPLETED was at the site before the second listing, so its absence there is no race.
        Map<String, KeyVersions> sourceKeys = new LinkedHashMap<>();
        page.keys().forEach(k -> sourceKeys.put(k.key(), k));
        Instant now = clock.instant();
        PageAudit pageAudit = new PageAudit(bucket, request, afterKey, page, expectedByTargetAndKey, sourceKeys, sourceDetails, now);
        Map<Target, Map<String, KeyAudit.Result>> audits = new LinkedHashMap<>();
        Map<Target, Set<String>> undecided = new LinkedHashMap<>();
        for (Target target : new LinkedHashSet<>(targets.values())) {
            Map<String, KeyAudit.Result> results = pageAudit.audit(target, Map.of(), null);
            audits.put(target, results);
            Set<String> open = new java.util.TreeSet<>(KeyVersions.KEY_ORDER);
            results.forEach((key, result) -> {
                if (result.restsOnStatus()) {
                    open.add(key);
                }
            });
            if (!open.isEmpty()) {
                undecided.put(target, open);
            }
        }
        if (!undecided.isEmpty()) {
            Set<VersionRef> refs = new LinkedHashSet<>();
            undecided.forEach((target, keys) -> keys.forEach(key -> expectedByTargetAndKey.getOrDefault(target, Map.of())
                    .getOrDefault(key, List.of()).forEach(v -> refs.add(new VersionRef(bucket, key, statusVersionId.apply(v.versionId()))))));
            Map<VersionRef, VersionStatus> recorded = statuses.findAll(List.copyOf(refs));
            undecided.forEach((target, keys) -> audits.get(target).putAll(pageAudit.audit(target, recorded, keys)));
        }

        Map<String, SiteCounts> bySite = new LinkedHashMap<>(countsBefore);
        List<Finding> findings = new ArrayList<>();
        List<Requeue.Item> repairs = new ArrayList<>();
        for (Map.Entry<Target, Map<String, KeyAudit.Result>> targetAudits : audits.entrySet()) {
            String site = targetAudits.getKey().site().name();
            SiteCounts counts = bySite.getOrDefault(site, SiteCounts.ZERO);
            int repairsBefore = repairs.size();
            List<PendingRepair> copies = new ArrayList<>();
            List<PendingRepair> oneByOne = new ArrayList<>();
            for (Map.Entry<String, KeyAudit.Result> keyAudit : targetAudits.getValue().entrySet()) {
                KeyAudit.Result result = keyAudit.getValue();
                counts = counts.plus(result.counts());
                findings.addAll(result.findings());
                if (request.repair()) {
                    KeyVersions atSource = sourceKeys.get(keyAudit.getKey());
                    List<ListedVersion> history = atSource == null ? List.of() : atSource.versions();
                    for (KeyAudit.Repair repair : result.repairs()) {
                        ListedVersion v = history.stream().filter(h -> h.versionId().equals(repair.versionId())).findFirst().orElseThrow();
                        (repair.forceCopy() || repair.tagsOnly() ? oneByOne : copies).add(new PendingRepair(v, repair));
                    }
                }
            }
            // Versions that are only missing (or stuck) go to a backfill job once a page holds many of them: the job lists
            // both sides a page at a time and copies what the site lacks, where one at a time each would cost a status
            // record, an entry and an outcome. A divergent replica (copied over) or its tags (re-tagged) stay one by one.
            long byJob = 0;
            if (!copies.isEmpty() && repairByJob(run, bucket, run.request(), site, copies.size())) {
                byJob = copies.size();
                copies.clear();
            }
            oneByOne.addAll(copies);
            for (PendingRepair pending : oneByOne) {
                ListedVersion v = pending.version();
                repairs.add(new Requeue.Item(repairEntries.entry(bucket, v, config, ruleOf.get(id(v)), tagsOf.getOrDefault(id(v), Map.of()),
                        site, pending.repair().forceCopy(), pending.repair().tagsOnly()), site, null));
            }
            counts = counts.plus(new SiteCounts(0, 0, 0, 0, 0, 0, 0, 0, 0, repairs.size() - repairsBefore + byJob));
            bySite.put(site, counts);
        }
        requeue.requeue(repairs);
        return new Audited(bySite, findings);
    }

    private record PendingRepair(ListedVersion version, KeyAudit.Repair repair) {
    }

    /** The backfill job a repairing run starts for a bucket at a site: one per run, bucket and site, so that a step replayed finds it. */
    static String repairJobId(String runId, String bucket, String site) {
        return runId + "-repair-" + site + "-" + bucket;
    }

    /**
     * Whether this page's {@code missing} copies for {@code site} are left to a backfill job: the run started one for the
     * bucket and site at an earlier page, or this page holds {@link #REPAIR_BY_JOB_AT} of them or more and starts it.
     */
    private boolean repairByJob(VerifyRun run, String bucket, VerifyRequest request, String site, int missing) {
        if (jobs == null) {
            return false; // a verifier given no job store (tests of the per-version repair)
        }
        String id = repairJobId(run.id(), bucket, site);
        if (repairJobs.contains(id)) {
            return true;
        }
        if (missing < REPAIR_BY_JOB_AT) {
            if (jobs.find(id).isEmpty()) {
                return false;
            }
            repairJobs.add(id);
            return true;
        }
        String prefix = request.prefix() == null || request.prefix().isEmpty() ? null : request.prefix();
        if (jobs.create(new BackfillJob(id, bucket, prefix, List.of(site), BackfillJob.State.LISTING, clock.instant().toString(), null,
                0, 0, 0, null, Map.of(), null))) {
            LOG.info("verify {}: {} versions missing at site '{}' in one page of bucket '{}': repaired by backfill job {}", run.id(), missing,
                    site, bucket, id);
        }
        repairJobs.add(id);
        return true;
    }

    /** One page's audit at a site: the site listed over the page's range of keys, its entries read as far as needed, each key audited. */
    private final class PageAudit {
        private final String bucket;
        private final VerifyRequest request;
        private final String afterKey;
        private final VersionListing.Page page;
        private final Map<Target, Map<String, List<ListedVersion>>> expectedByTargetAndKey;
        private final Map<String, KeyVersions> sourceKeys;
        private final Map<String, VersionDetails> sourceDetails;
        private final Instant now;

        PageAudit(String bucket, VerifyRequest request, String afterKey, VersionListing.Page page,
                  Map<Target, Map<String, List<ListedVersion>>> expectedByTargetAndKey, Map<String, KeyVersions> sourceKeys,
                  Map<String, VersionDetails> sourceDetails, Instant now) {
            this.bucket = bucket;
            this.request = request;
            this.afterKey = afterKey;
            this.page = page;
            this.expectedByTargetAndKey = expectedByTargetAndKey;
            this.sourceKeys = sourceKeys;
            this.sourceDetails = sourceDetails;
            this.now = now;
        }

        /**
         * Lists the site over the page's keys and audits them, each expected entry with its status in {@code recorded}
         * (none: not read); {@code only}, when not null, the keys to audit. Returns each key's result, in key order.
         */
        Map<String, KeyAudit.Result> audit(Target target, Map<VersionRef, VersionStatus> recorded, Set<String> only) {
            String site = target.site().name();
            String prefix = target.keyPrefix(bucket);
            List<KeyVersions> listed = sites.get(site).listing().range(target.bucket(), prefix + request.prefix(),
                    afterKey == null ? null : prefix + afterKey, page.done() ? null : prefix + page.lastKey(), LISTING_PAGE);
            Map<String, KeyVersions> atSite = new TreeMap<>(KeyVersions.KEY_ORDER);
            listed.forEach(k -> atSite.put(k.key().substring(prefix.length()), k));
            Map<String, List<ListedVersion>> expected = expectedByTargetAndKey.getOrDefault(target, Map.of());
            Set<String> keys = new java.util.TreeSet<>(KeyVersions.KEY_ORDER);
            keys.addAll(atSite.keySet());
            keys.addAll(expected.keySet());
            if (only != null) {
                keys.retainAll(only);
            }
            Map<String, KeyAudit.SiteEntry> replicas = readReplicas(target, bucket, keys, atSite, expected, sourceKeys, request);
            boolean sharedKeys = sharesKeys(target.site());
            KeyAudit.Settings settings = new KeyAudit.Settings(request.stuckAfter(), compareEtags.getOrDefault(site, true),
                    SiteConfig.TYPE_SCALITY.equals(target.site().type()) ? null : target.site().encryption());
            Map<String, KeyAudit.Result> results = new TreeMap<>(KeyVersions.KEY_ORDER);
            for (String key : keys) {
                KeyVersions atSource = sourceKeys.get(key);
                List<ListedVersion> history = atSource == null ? List.of() : atSource.versions();
                List<KeyAudit.SourceEntry> wanted = new ArrayList<>();
                for (ListedVersion v : expected.getOrDefault(key, List.of())) {
                    VersionStatus status = recorded.get(new VersionRef(bucket, key, statusVersionId.apply(v.versionId())));
                    wanted.add(new KeyAudit.SourceEntry(v, sourceDetails.get(id(v)), status == null ? null : status.sites().get(site)));
                }
                KeyVersions replicaKey = atSite.get(key);
                List<KeyAudit.SiteEntry> siteHistory = new ArrayList<>();
                if (replicaKey != null) {
                    replicaKey.versions().forEach(v -> siteHistory.add(replicas.get(replicaKey.key() + "\u0000" + v.versionId())));
                }
                if (sharedKeys) {
                    // Another source bucket's replicas are its verify's to judge: a replica of a version this key never had
                    // here is taken as theirs (so a replica of a version since deleted at this source is not reported extra
                    // at such a site: which bucket a replica came from is not written on it).
                    Set<String> ids = new java.util.HashSet<>();
                    history.forEach(v -> ids.add(v.versionId()));
                    siteHistory.removeIf(entry -> entry.replicaOf() != null && !ids.contains(entry.replicaOf()));
                }
                results.put(key, KeyAudit.audit(site, bucket, key, history, wanted, siteHistory, settings, now));
            }
            return results;
        }
    }

    /**
     * Decides whether a source entry belongs anywhere (its rule, with its tags when the rules filter on them) and
     * reads what it will be compared by. A version that is itself a replica belongs nowhere.
     */
    private void selectAndRead(String bucket, ReplicationConfiguration config, ListedVersion v, Map<String, ReplicationRule> ruleOf,
                               Map<String, Map<String, String>> tagsOf, Map<String, VersionDetails> details, boolean whole) {
        if (v.deleteMarker()) {
            config.ruleFor(v.key(), Map.of()).filter(ReplicationRule::deleteMarkerReplication).ifPresent(r -> ruleOf.put(id(v), r));
            return;
        }
        Map<String, String> tags = null;
        if (config.needsTagsFor(v.key())) {
            tags = source.tags(bucket, v.key(), v.versionId());
        }
        ReplicationRule rule = config.ruleFor(v.key(), tags == null ? Map.of() : tags).orElse(null);
        if (rule == null) {
            return;
        }
        if (!whole) {
            // By the listing alone (issue 29): its size and ETag; what it does not carry is for the keys read whole.
            ruleOf.put(id(v), rule);
            tagsOf.put(id(v), tags == null ? Map.of() : tags);
            details.put(id(v), listed(v, null, false));
            return;
        }
        VersionDetails read = source.details(bucket, v.key(), v.versionId());
        if (read == null || read.replica()) {
            return; // gone since it was listed, or a replica: replicas are never replicated
        }
        if (tags == null) {
            tags = source.tags(bucket, v.key(), v.versionId());
        }
        ruleOf.put(id(v), rule);
        tagsOf.put(id(v), tags);
        details.put(id(v), read.withTags(tags));
    }

    /**
     * The site's entries of the page's keys, read: each version's HEAD (which says whose replica it is), and the
     * tags of the copies that stand for an expected version. Keyed by the replica key and the site's version id.
     */
    private Map<String, KeyAudit.SiteEntry> readReplicas(Target target, String sourceBucket, Set<String> keys, Map<String, KeyVersions> atSite,
                                                         Map<String, List<ListedVersion>> expected, Map<String, KeyVersions> sourceKeys,
                                                         VerifyRequest request) {
        VersionStore store = sites.get(target.site().name());
        boolean keepsIds = SiteConfig.TYPE_SCALITY.equals(target.site().type());
        // Where several source buckets write the same keys (SiteConfig#keysSharedBySourceBuckets), an entry of the same size
        // and ETag may be another bucket's replica: such keys are read whole, a HEAD saying whose replica each entry is (the
        // backfill page's look at such a site is the same; found by the CloudServer benchmark's backfill runs).
        boolean byListings = !sharesKeys(target.site());
        Map<String, KeyAudit.SiteEntry> entries = new java.util.concurrent.ConcurrentHashMap<>();
        List<Callable<Void>> reads = new ArrayList<>();
        for (String key : keys) {
            KeyVersions replicaKey = atSite.get(key);
            if (replicaKey == null) {
                continue;
            }
            Set<String> wanted = new java.util.HashSet<>();
            expected.getOrDefault(key, List.of()).forEach(v -> wanted.add(v.versionId()));
            Set<String> sourceIds = new java.util.HashSet<>();
            KeyVersions atSource = sourceKeys.get(key);
            if (atSource != null) {
                atSource.versions().forEach(v -> sourceIds.add(v.versionId()));
            }
            boolean whole = request.readsWhole(key);
            if (!whole && byListings && byListing(replicaKey, expected.getOrDefault(key, List.of()), sourceIds, keepsIds, entries)) {
                continue;
            }
            for (ListedVersion v : replicaKey.versions()) {
                if (v.deleteMarker()) {
                    // An S3 site's delete marker says nothing of its origin; a CloudServer site keeps the source's id.
                    entries.put(replicaKey.key() + "\u0000" + v.versionId(),
                            new KeyAudit.SiteEntry(v, keepsIds && sourceIds.contains(v.versionId()) ? v.versionId() : null, null));
                    continue;
                }
                reads.add(() -> {
                    VersionDetails details = store.details(target.bucket(), replicaKey.key(), v.versionId());
                    if (details == null) {
                        details = new VersionDetails(v.size(), v.eTag(), Map.of(), Map.of(), Map.of(), null, false);
                    }
                    String of = keepsIds ? (details.replica() ? v.versionId() : null) : details.replicaOf();
                    if (!whole) {
                        // Read for whose replica it is, not compared whole: the source side of a key not read whole has
                        // only what its listing says (found by the chaos run of a backfill: every such key's content
                        // type read as divergent, absent at the source's listing).
                        details = new VersionDetails(details.size(), details.eTag(), Map.of(), Map.of(), null, details.replicaOf(),
                                details.replica());
                    } else if (of != null && wanted.contains(of)) {
                        details = details.withTags(store.tags(target.bucket(), replicaKey.key(), v.versionId()));
                    }
                    entries.put(replicaKey.key() + "\u0000" + v.versionId(), new KeyAudit.SiteEntry(v, of, details));
                    return null;
                });
            }
        }
        parallel(reads);
        return entries;
    }

    /** Whether keys at the site may hold other source buckets' replicas that nothing but a HEAD tells apart (issue 29). */
    private static boolean sharesKeys(SiteConfig site) {
        return site.keysSharedBySourceBuckets() && !SiteConfig.TYPE_SCALITY.equals(site.type());
    }

    /**
     * The site's entries of a key judged by the listings alone (issue 29), when they can be: the site's history is the
     * first entries of what the source sends it, entry for entry ({@link PageDiff#sameEntries}: sizes, ETags, markers),
     * so each is the replica of the source version in its place (a CloudServer site keeps the source's version ids, which
     * say it). False, nothing read: the key is read whole (a HEAD per entry says whose replica each is).
     */
    private static boolean byListing(KeyVersions replicaKey, List<ListedVersion> expected, Set<String> sourceIds, boolean keepsIds,
                                     Map<String, KeyAudit.SiteEntry> entries) {
        List<ListedVersion> atSite = replicaKey.versions();
        if (!keepsIds && (PageDiff.contentRepeats(expected) || PageDiff.sameEntries(expected, atSite) != atSite.size())) {
            // A history with the same content twice cannot be matched by position: a site holding the newer one's replica
            // alone reads as holding the older (found by the chaos run of a backfill: the newer reported missing).
            return false;
        }
        for (int i = 0; i < atSite.size(); i++) {
            ListedVersion v = atSite.get(i);
            String of = keepsIds ? (sourceIds.contains(v.versionId()) ? v.versionId() : null)
                    : v.deleteMarker() ? null : expected.get(i).versionId();
            entries.put(replicaKey.key() + "\u0000" + v.versionId(), new KeyAudit.SiteEntry(v, of, v.deleteMarker() ? null : listed(v, of, true)));
        }
        return true;
    }

    /** What a listing says of a version, as details: its size and ETag, nothing it does not carry (no tags: not compared). */
    private static VersionDetails listed(ListedVersion v, String replicaOf, boolean replica) {
        return new VersionDetails(v.size(), v.eTag(), Map.of(), Map.of(), null, replicaOf, replica);
    }

    /** Each site the bucket's rules send versions to, among those asked for, with its bucket there. */
    private Map<String, Target> targets(String bucket, ReplicationConfiguration config, VerifyRequest request, List<String> problems) {
        Map<String, Target> targets = new LinkedHashMap<>();
        for (ReplicationRule rule : config.rules()) {
            if (!rule.enabled()) {
                continue;
            }
            for (String site : rule.sites()) {
                if (!request.checks(site) || !siteConfigs.containsKey(site)) {
                    continue;
                }
                String destination = destinationBucket(site, rule);
                if (destination == null) {
                    String problem = "site '" + site + "' not checked for bucket '" + bucket + "': it has no bucket and rule "
                            + (rule.id() == null ? "" : "'" + rule.id() + "' ") + "names no Destination.Bucket";
                    if (!problems.contains(problem)) {
                        problems.add(problem);
                    }
                    continue;
                }
                targets.putIfAbsent(site + "\u0000" + destination, new Target(siteConfigs.get(site), destination));
            }
        }
        return targets;
    }

    private String destinationBucket(String site, ReplicationRule rule) {
        SiteConfig config = siteConfigs.get(site);
        if (config == null) {
            return null;
        }
        return config.bucket() != null && !config.bucket().isBlank() ? config.bucket() : rule.destinationBucketName();
    }

    private VerifyRun nextBucket(VerifyRun run, Map<String, SiteCounts> bySite, long findings, List<String> problems, long scanned, long keys) {
        int next = run.bucketIndex() + 1;
        VerifyRun.Phase phase = next >= run.buckets().size() ? VerifyRun.Phase.DONE : VerifyRun.Phase.VERIFYING;
        Instant now = clock.instant();
        return new VerifyRun(run.id(), run.request(), phase, run.createdAt(), now, phase.finished() ? now : null, run.buckets(), next, null,
                run.totalVersions(), run.scanned() + scanned, run.keys() + keys, bySite, findings, problems, null, run.byInventory(), null);
    }

    /** A source entry's name within its bucket (version ids need not be unique across keys). */
    private static String id(ListedVersion v) {
        return v.key() + "\u0000" + v.versionId();
    }

    private static void parallel(List<Callable<Void>> tasks) {
        BoundedTasks.run(tasks, CONCURRENCY);
    }
}
