package io.backbeatserverless.populator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.adapters.aws.BucketRules;
import io.backbeatserverless.adapters.aws.VersionListing;
import io.backbeatserverless.core.backfill.BackfillJob;
import io.backbeatserverless.core.backfill.BackfillJobStore;
import io.backbeatserverless.core.crash.CrashPoints;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.metadata.PendingVersions;
import io.backbeatserverless.core.versions.KeyVersions;
import io.backbeatserverless.core.versions.ListedVersion;
import io.backbeatserverless.core.ops.CheckpointStore;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationRule;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.ReplicationStatusStore;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.core.status.VersionStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Bucket;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.Tag;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The listing feed: {@code ListObjectVersions} over every bucket that has a valid replication
 * configuration, for any S3-compatible source, and the backfill of versions that existed before a rule
 * (what S3 Batch Replication does). It works in passes over the buckets, one page (at most
 * {@code pageSize} versions) per batch; its cursor (the bucket, the key and version-id markers) and
 * progress are the checkpoint, saved after each batch is in Kafka, so a restarted populator resumes at
 * the page where it stopped. A new pass starts {@code passInterval} after the last one ended.
 *
 * <p>A version is new when the status store has never recorded it. A page's new versions are recorded as queued
 * (PENDING) in batches <em>before</em> the publisher has them: written after, a fast outcome could land first and be
 * overwritten; written one at a time, they cost a round trip per version (most of the feed's CPU in the race
 * benchmark). Recorded but maybe never published (the publish failed, or the populator died in between), they must
 * not be taken for queued: so before the record, the checkpoint notes how far the page reaches ({@code inFlightKey}),
 * and on the keys up to there a version still PENDING is queued again, by this feed serving the page again or by the
 * next populator resuming there. That page alone is replayed, at least once; the versions of pages already
 * acknowledged are not (queueing again every version still PENDING after a restart was a backlog of duplicates the
 * chaos run caught). Rules are matched here, with tags read only for rules that filter on them. Pages hold whole keys
 * ({@link VersionListing}), each key's versions queued oldest first.
 */
public final class ListingChangeFeed implements ChangeFeed {

    private static final Logger LOG = LoggerFactory.getLogger(ListingChangeFeed.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Versions remembered per cache: a few tens of MiB at most. */
    private static final int CACHE_LIMIT = 200_000;

    /**
     * Where a pass stands, saved as the checkpoint: the pass number, the buckets it covers, the current
     * one and the last whole key listed in it ({@code keyMarker}; {@code versionIdMarker} is no longer used and
     * stays null), what it has done so far, and {@code inFlightKey}: the last key of a page after {@code keyMarker}
     * whose new versions were recorded PENDING but not acknowledged as published (null when there is none).
     */
    public record Cursor(long pass, String passStartedAt, List<String> buckets, int bucketIndex, String keyMarker,
                         String versionIdMarker, long scanned, long queued, long bucketScanned, long bucketTotal,
                         boolean done, String passEndedAt, String inFlightKey, List<String> handedToJobs) {

        /** A cursor saved before backfill jobs: its buckets count as met already (their versions were queued one by one). */
        public Cursor(long pass, String passStartedAt, List<String> buckets, int bucketIndex, String keyMarker,
                      String versionIdMarker, long scanned, long queued, long bucketScanned, long bucketTotal,
                      boolean done, String passEndedAt, String inFlightKey) {
            this(pass, passStartedAt, buckets, bucketIndex, keyMarker, versionIdMarker, scanned, queued, bucketScanned, bucketTotal,
                    done, passEndedAt, inFlightKey, null);
        }

        static Cursor nothingYet() {
            return new Cursor(0, null, List.of(), 0, null, null, 0, 0, 0, 0, true, null, null, List.of());
        }

        /** Whether the feed met {@code bucket} with rules before (null: a cursor from before jobs, which met them all). */
        boolean met(String bucket) {
            return handedToJobs == null || handedToJobs.contains(bucket);
        }

        Cursor withHandedToJob(String bucket) {
            List<String> handed = new ArrayList<>(handedToJobs == null ? List.of() : handedToJobs);
            handed.add(bucket);
            return new Cursor(pass, passStartedAt, buckets, bucketIndex, keyMarker, versionIdMarker, scanned, queued, bucketScanned,
                    bucketTotal, done, passEndedAt, inFlightKey, List.copyOf(handed));
        }

        public String bucket() {
            return bucketIndex < buckets.size() ? buckets.get(bucketIndex) : null;
        }

        /** {@code key} is on a page recorded PENDING and maybe never published. */
        boolean inFlight(String key) {
            return inFlightKey != null && KeyVersions.KEY_ORDER.compare(key, inFlightKey) <= 0;
        }

        Cursor withInFlightKey(String key) {
            return new Cursor(pass, passStartedAt, buckets, bucketIndex, keyMarker, versionIdMarker, scanned, queued, bucketScanned,
                    bucketTotal, done, passEndedAt, key, handedToJobs);
        }
    }

    private final S3Client source;
    private final BucketRules bucketRules;
    private final ReplicationStatusStore statusStore;
    private final CheckpointStore checkpoints;
    private final String checkpointName;
    private final int pageSize;
    private final Duration passInterval;
    private final Clock clock;
    /**
     * Versions known to be recorded, so steady-state passes need not ask the store again: bounded, so a large
     * bucket costs a lookup per page instead of memory without limit.
     */
    private final Set<VersionRef> recorded = java.util.Collections.newSetFromMap(bounded(CACHE_LIMIT));
    /** Versions the bucket's rules (the value) did not select: asked again when the rules change. Bounded too. */
    private final Map<VersionRef, ReplicationConfiguration> notSelected = bounded(CACHE_LIMIT);
    private final VersionListing listing;
    private volatile Cursor cursor;
    /** Buckets' version counts, taken the first time a pass meets them (progress of a backfill), not every pass. */
    private final Map<String, Long> totals = new ConcurrentHashMap<>();
    /** Where buckets met with rules for the first time go as backfill jobs (issue 29); null: queued one version at a time. */
    private final BackfillJobStore jobs;
    private volatile long listingJobsPass = -1;
    private volatile Set<String> listingJobBuckets = Set.of();

    public ListingChangeFeed(S3Client source, ReplicationStatusStore statusStore, BucketRules bucketRules,
                             CheckpointStore checkpoints, String checkpointName, int pageSize, Duration passInterval, Clock clock) {
        this(source, statusStore, bucketRules, checkpoints, checkpointName, pageSize, passInterval, clock, null);
    }

    /**
     * @param jobs where a bucket met with rules for the first time starts a backfill job for its existing versions (a
     *             page per entry), while later passes queue the versions written since; null: every version one entry
     */
    public ListingChangeFeed(S3Client source, ReplicationStatusStore statusStore, BucketRules bucketRules,
                             CheckpointStore checkpoints, String checkpointName, int pageSize, Duration passInterval, Clock clock,
                             BackfillJobStore jobs) {
        this.jobs = jobs;
        this.source = source;
        this.listing = new VersionListing(source);
        this.bucketRules = bucketRules;
        this.statusStore = statusStore;
        this.checkpoints = checkpoints;
        this.checkpointName = checkpointName;
        this.pageSize = Math.min(1000, Math.max(10, pageSize));
        this.passInterval = passInterval;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "listing";
    }

    /** The current cursor: pass, bucket, progress. */
    public Cursor cursor() {
        return cursor == null ? Cursor.nothingYet() : cursor;
    }

    @Override
    public Batch next() throws JsonProcessingException {
        if (cursor == null) {
            cursor = checkpoints.loadState(checkpointName).map(ListingChangeFeed::parse).orElse(Cursor.nothingYet());
            if (!cursor.done()) {
                LOG.info("listing feed resumes pass {} at bucket {} after key '{}' ({} versions scanned)", cursor.pass(),
                        cursor.bucket(), cursor.keyMarker(), cursor.scanned());
            }
        }
        Cursor at = cursor;
        if (at.done()) {
            if (at.passEndedAt() != null && Instant.parse(at.passEndedAt()).plus(passInterval).isAfter(clock.instant())) {
                return Batch.empty();
            }
            at = newPass(at.pass() + 1);
        }
        String bucket = at.bucket();
        if (bucket == null) {
            return new Batch(List.of(), ended(at));
        }
        ReplicationConfiguration rules = bucketRules.of(bucket);
        if (rules == null) {
            return new Batch(List.of(), nextBucket(at));
        }
        if (jobs != null && at.keyMarker() == null) {
            if (!at.met(bucket)) {
                // A bucket met with rules for the first time (a new rule on a full bucket): its existing versions go as a
                // backfill job, a page at a time, not one entry each (issue 29). Its later versions are this feed's again.
                BackfillJob job = startJob(bucket, at);
                LOG.info("listing feed: bucket {} has replication rules now; its existing versions go as backfill job {}", bucket, job.id());
                return new Batch(List.of(), nextBucket(at.withHandedToJob(bucket)));
            }
            if (listingJobBuckets(at).contains(bucket)) {
                return new Batch(List.of(), nextBucket(at)); // a job is listing it: its versions are the job's
            }
        }
        if (at.bucketTotal() < 0) {
            at = withTotal(at, totals.computeIfAbsent(bucket, this::countVersions));
        }
        return page(at, bucket, rules);
    }

    /** The buckets a backfill job is still listing, read once a pass. */
    private Set<String> listingJobBuckets(Cursor at) {
        if (listingJobsPass != at.pass()) {
            listingJobBuckets = jobs.listing().stream().map(BackfillJob::bucket).collect(java.util.stream.Collectors.toSet());
            listingJobsPass = at.pass();
        }
        return listingJobBuckets;
    }

    /** The job of a bucket met in this pass: the same id if this is done again after a crash, so one job only. */
    private BackfillJob startJob(String bucket, Cursor at) {
        // Sorted by time with the jobs started through the ops API (whose ids start with their time too).
        String id = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC)
                .format(Instant.parse(at.passStartedAt())) + "-pass" + at.pass() + "-" + bucket;
        BackfillJob job = new BackfillJob(id, bucket, null, List.of(), BackfillJob.State.LISTING, clock.instant().toString(), null,
                0, 0, 0, null, Map.of(), null);
        jobs.create(job);
        listingJobsPass = -1;
        return job;
    }

    private Cursor newPass(long pass) {
        List<String> buckets = source.listBuckets().buckets().stream().map(Bucket::name).sorted().toList();
        // A cursor from before jobs met every bucket it had: those are the ones handed over, and only new ones start jobs.
        List<String> handed = cursor().handedToJobs() == null ? cursor().buckets() : cursor().handedToJobs();
        return new Cursor(pass, clock.instant().toString(), buckets, 0, null, null, 0, 0, 0, -1, false, null, null, handed);
    }

    private Batch page(Cursor at, String bucket, ReplicationConfiguration rules) {
        VersionListing.Page page = listing.page(bucket, null, at.keyMarker(), pageSize);
        long listed = page.keys().stream().mapToLong(k -> k.versions().size()).sum();
        Found found = newVersions(bucket, rules, page.keys(), at);
        // An in-flight page that reached further than this one (the page size changed): the rest of it is still in flight.
        String stillInFlight = !page.done() && at.inFlightKey() != null
                && KeyVersions.KEY_ORDER.compare(page.lastKey(), at.inFlightKey()) < 0 ? at.inFlightKey() : null;
        Cursor scannedTo = new Cursor(at.pass(), at.passStartedAt(), at.buckets(), at.bucketIndex(), page.lastKey(), null,
                at.scanned() + listed, at.queued() + found.queue().size(), at.bucketScanned() + listed, at.bucketTotal(), false, null,
                stillInFlight, at.handedToJobs());
        if (!found.queue().isEmpty()) {
            recordQueued(at, page.lastKey(), found.unrecorded());
        }
        return new Batch(found.queue(), page.done() ? nextBucket(scannedTo) : scannedTo);
    }

    /**
     * Records the page's never-recorded versions as queued (PENDING), before the publisher has them. The checkpoint says
     * first that the page, up to {@code lastKey}, is in flight: a populator that dies after the record and before the
     * publish leaves versions recorded PENDING that no one queued, and the next one must queue them again.
     */
    private void recordQueued(Cursor at, String lastKey, List<SourceVersion> unrecorded) {
        Cursor inFlight = at.withInFlightKey(at.inFlight(lastKey) ? at.inFlightKey() : lastKey);
        saveCheckpoint(inFlight);
        cursor = inFlight;
        if (!unrecorded.isEmpty()) {
            statusStore.recordQueued(unrecorded.stream().map(v -> new ReplicationStatusStore.QueuedVersion(v.ref(),
                    v.metadata().contentLength(), v.metadata().lastModified(),
                    v.metadata().replicationInfo().map(ObjectMetadata.ReplicationInfo::sites).orElse(List.of()),
                    v.metadata().isDeleteMarker())).toList());
        }
        CrashPoints.reached(CrashPoints.Point.QUEUED_RECORDED);
    }

    private Cursor nextBucket(Cursor at) {
        Cursor next = new Cursor(at.pass(), at.passStartedAt(), at.buckets(), at.bucketIndex() + 1, null, null, at.scanned(),
                at.queued(), 0, -1, false, null, null, at.handedToJobs());
        return next.bucket() == null ? ended(next) : next;
    }

    private Cursor ended(Cursor at) {
        return new Cursor(at.pass(), at.passStartedAt(), at.buckets(), at.buckets().size(), null, null, at.scanned(), at.queued(),
                0, 0, true, clock.instant().toString(), null, at.handedToJobs());
    }

    private static Cursor withTotal(Cursor at, long total) {
        return new Cursor(at.pass(), at.passStartedAt(), at.buckets(), at.bucketIndex(), at.keyMarker(), at.versionIdMarker(),
                at.scanned(), at.queued(), at.bucketScanned(), total, at.done(), at.passEndedAt(), at.inFlightKey(), at.handedToJobs());
    }

    /** The bucket's versions and delete markers, counted for the progress figures. */
    private long countVersions(String bucket) {
        long total = 0;
        for (ListObjectVersionsResponse p : source.listObjectVersionsPaginator(r -> r.bucket(bucket).maxKeys(1000))) {
            total += p.versions().size() + p.deleteMarkers().size();
        }
        return total;
    }

    @Override
    public void acknowledge(Batch batch) {
        batch.versions().forEach(version -> recorded.add(version.ref()));
        if (batch.position() instanceof Cursor next) {
            saveCheckpoint(next);
            if (next.done() && !cursor().done()) {
                // A pass that found nothing new is routine; one that queued versions (a backfill) is worth a line.
                if (next.queued() > 0) {
                    LOG.info("listing feed: pass {} done, {} versions scanned in {} buckets, {} queued", next.pass(), next.scanned(),
                            next.buckets().size(), next.queued());
                } else {
                    LOG.debug("listing feed: pass {} done, nothing new in {} versions", next.pass(), next.scanned());
                }
            }
            cursor = next;
        }
    }

    private void saveCheckpoint(Cursor at) {
        try {
            checkpoints.saveState(checkpointName, MAPPER.writeValueAsString(at));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Cursor parse(String json) {
        try {
            return MAPPER.readValue(json, Cursor.class);
        } catch (JsonProcessingException e) {
            LOG.warn("listing feed: unreadable checkpoint, starting a new pass: {}", e.getMessage());
            return Cursor.nothingYet();
        }
    }

    /** A page's versions to queue, and which of them the status store has no record of yet. */
    private record Found(List<SourceVersion> queue, List<SourceVersion> unrecorded) {
        static final Found NOTHING = new Found(List.of(), List.of());
    }

    /**
     * The page's versions to queue: those never recorded, and on keys of a page in flight ({@link Cursor#inFlight}) those
     * still PENDING at some site (recorded, maybe never published; an outcome at every site means they were).
     */
    private Found newVersions(String bucket, ReplicationConfiguration rules, List<KeyVersions> keys, Cursor at) {
        List<ListedVersion> candidates = new ArrayList<>();
        boolean anyInFlight = false;
        for (KeyVersions key : keys) {
            boolean inFlight = at.inFlight(key.key());
            for (ListedVersion l : key.versions()) {
                VersionRef ref = new VersionRef(bucket, l.key(), l.versionId());
                if ((inFlight || !recorded.contains(ref)) && !rules.equals(notSelected.get(ref))) {
                    candidates.add(l);
                    anyInFlight |= inFlight;
                }
            }
        }
        if (candidates.isEmpty()) {
            return Found.NOTHING;
        }
        List<VersionRef> refs = candidates.stream().map(l -> new VersionRef(bucket, l.key(), l.versionId())).toList();
        // Only a page in flight needs the statuses themselves; elsewhere a record at all means queued.
        Map<VersionRef, VersionStatus> statuses = anyInFlight ? statusStore.findAll(refs) : Map.of();
        Set<VersionRef> alreadyRecorded = anyInFlight ? statuses.keySet() : statusStore.recorded(refs);
        List<SourceVersion> queue = new ArrayList<>();
        List<SourceVersion> unrecorded = new ArrayList<>();
        for (ListedVersion l : candidates) {
            VersionRef ref = new VersionRef(bucket, l.key(), l.versionId());
            boolean isRecorded = alreadyRecorded.contains(ref);
            if (isRecorded && !(at.inFlight(l.key()) && stillPending(statuses.get(ref)))) {
                recorded.add(ref);
                continue;
            }
            Map<String, String> tags = l.deleteMarker() || !rules.needsTagsFor(l.key()) ? Map.of() : tagsOf(bucket, l);
            ReplicationRule rule = rules.ruleFor(l.key(), tags).orElse(null);
            if (rule == null || (l.deleteMarker() && !rule.deleteMarkerReplication())) {
                notSelected.put(ref, rules);
                continue;
            }
            SourceVersion version = new SourceVersion(bucket, PendingVersions.metadataOf(l.key(), l.versionId(), l.size(), l.eTag(),
                    l.lastModified(), l.deleteMarker(), rules, rule, tags));
            queue.add(version);
            if (!isRecorded) {
                unrecorded.add(version);
            }
        }
        return new Found(queue, unrecorded);
    }

    private static boolean stillPending(VersionStatus status) {
        return status != null && status.sites().values().stream().anyMatch(o -> o.status() == ReplicationStatus.PENDING);
    }

    private Map<String, String> tagsOf(String bucket, ListedVersion l) {
        Map<String, String> tags = new HashMap<>();
        for (Tag t : source.getObjectTagging(r -> r.bucket(bucket).key(l.key()).versionId(l.versionId())).tagSet()) {
            tags.put(t.key(), t.value());
        }
        return tags;
    }

    /** A set of at most {@code limit} elements that forgets the least recently added first. */
    private static <K, V> Map<K, V> bounded(int limit) {
        return java.util.Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > limit;
            }
        });
    }
}
