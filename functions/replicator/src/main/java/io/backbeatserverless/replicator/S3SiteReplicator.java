package io.backbeatserverless.replicator;

import io.backbeatserverless.core.retry.Retrier;

import io.backbeatserverless.adapters.config.ReplicatorSettings;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.metadata.ReplicaMarkers;
import io.backbeatserverless.core.status.WrittenMarkers;
import io.backbeatserverless.core.transfer.CopyProgressStore;
import io.backbeatserverless.core.transfer.PartPlan;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Replicates to an {@code aws_s3} site (AWS S3 or any S3-compatible store), as Backbeat's queue
 * processor does for cloud locations. It looks at the key at the site, lets {@link ReplicaDecision} say what to do
 * (answering what it asks), and does it: re-tags a replica, replicates a delete marker, or copies with
 * {@link WholeObjectCopier} or {@link MultipartCopier} ({@link ReplicaSite} is the site as they all see it):
 * <ul>
 *   <li>data is streamed from the source GET into the destination PUT, never held whole in memory;
 *       at or above the multipart threshold it goes in parts (Backbeat's sizing, {@link PartPlan}),
 *       each a ranged GET streamed into an UploadPart, several at once, the upload aborted on failure;</li>
 *   <li>integrity is checked end to end: the MD5 of the bytes streamed must match the ETag the site
 *       returns (per part, and the multipart ETag), and a single-part source's ETag;</li>
 *   <li>content headers, user metadata and tags travel with the data; a delete marker becomes a DELETE
 *       on the versioned destination; a tag-only change (content METADATA) re-tags the replica;</li>
 *   <li>the replica carries {@code scal-replication-status: REPLICA}, {@code scal-version-id} (the source
 *       version) and {@code scal-source-last-modified}: a replay finds its version already there and
 *       copies nothing, and an older version never overwrites a newer one at the site;</li>
 *   <li>every request is retried under the {@link Retrier}'s policy when {@link ReplicationErrors} calls
 *       it retryable; the outcome counts the attempts.</li>
 * </ul>
 */
public final class S3SiteReplicator implements SiteReplicator, PageSite {

    public static final String REPLICA_STATUS_META = ReplicaMarkers.REPLICA_STATUS;
    public static final String SOURCE_VERSION_META = ReplicaMarkers.SOURCE_VERSION;
    public static final String SOURCE_LAST_MODIFIED_META = ReplicaMarkers.SOURCE_LAST_MODIFIED;

    private static final Logger LOG = LoggerFactory.getLogger(S3SiteReplicator.class);
    private static final long SMALL_BODY_BYTES = 1 << 20;

    private final SiteConfig site;
    private final S3Client source;
    private final S3Client destination;
    private final ReplicatorSettings settings;
    private final Retrier retrier;
    private final UnaryOperator<String> sourceVersionId;
    private final UnaryOperator<String> entryVersionId;
    private final SourceHistory sourceHistory;
    private final CopyProgressStore copyProgress;
    private final java.time.Clock clock;
    private final boolean serverSideCopy;
    private final SiteStatuses siteStatuses;
    private final WrittenMarkers writtenMarkers;
    private final java.util.concurrent.atomic.LongAdder bytesReadFromSource = new java.util.concurrent.atomic.LongAdder();
    private final ReplicaSite replicas;
    private final WholeObjectCopier whole;
    private final MultipartCopier parts;

    /**
     * @param sourceVersionId the source S3 API's spelling of an entry's version id (CloudServer sources: hex)
     */
    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination, ReplicatorSettings settings, Retrier retrier,
                            UnaryOperator<String> sourceVersionId) {
        this(site, source, destination, settings, retrier, sourceVersionId, null, java.time.Clock.systemUTC());
    }

    /**
     * @param copyProgress where multipart copies save their progress after every part, so one cut short by a deadline
     *                     or a crash resumes after its last part done; null: copies are not resumable (nor deferred)
     */
    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination, ReplicatorSettings settings, Retrier retrier,
                            UnaryOperator<String> sourceVersionId, CopyProgressStore copyProgress, java.time.Clock clock) {
        this(site, source, destination, settings, retrier, sourceVersionId, copyProgress, clock, false);
    }

    /**
     * @param serverSideCopy copy with {@code CopyObject} / {@code UploadPartCopy} sent to the site, which reads the source
     *                       itself ({@link SiteConfig#copiesServerSideFrom}): no byte passes through this function
     */
    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination, ReplicatorSettings settings, Retrier retrier,
                            UnaryOperator<String> sourceVersionId, CopyProgressStore copyProgress, java.time.Clock clock,
                            boolean serverSideCopy) {
        this(site, source, destination, settings, retrier, sourceVersionId, copyProgress, clock, serverSideCopy, SiteStatuses.UNKNOWN,
                WrittenMarkers.NONE);
    }

    /**
     * @param siteStatuses   what the status table says this site has: a version about to go over a delete marker asks it
     *                       whether the source's newer markers are replicated already ({@link #supersededByMarkers})
     * @param writtenMarkers this replicator's own record of the source markers it wrote at the site, asked the same, and
     *                       written before each marker's DELETE
     */
    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination, ReplicatorSettings settings, Retrier retrier,
                            UnaryOperator<String> sourceVersionId, CopyProgressStore copyProgress, java.time.Clock clock,
                            boolean serverSideCopy, SiteStatuses siteStatuses, WrittenMarkers writtenMarkers) {
        this(site, source, destination, settings, retrier, sourceVersionId, copyProgress, clock, serverSideCopy, siteStatuses, writtenMarkers,
                UnaryOperator.identity());
    }

    /**
     * @param entryVersionId the reverse of {@code sourceVersionId}: the entries' spelling of a version id the source's S3
     *                       API gives (CloudServer sources: internal), for the version ids a backfill page is told
     */
    public S3SiteReplicator(SiteConfig site, S3Client source, S3Client destination, ReplicatorSettings settings, Retrier retrier,
                            UnaryOperator<String> sourceVersionId, CopyProgressStore copyProgress, java.time.Clock clock,
                            boolean serverSideCopy, SiteStatuses siteStatuses, WrittenMarkers writtenMarkers,
                            UnaryOperator<String> entryVersionId) {
        this.entryVersionId = entryVersionId;
        this.siteStatuses = siteStatuses;
        this.writtenMarkers = writtenMarkers;
        this.serverSideCopy = serverSideCopy;
        this.copyProgress = copyProgress;
        this.clock = clock;
        this.site = site;
        this.source = source;
        this.destination = destination;
        this.settings = settings;
        this.retrier = retrier;
        this.sourceVersionId = sourceVersionId;
        this.sourceHistory = new SourceHistory(source);
        this.replicas = new ReplicaSite(site, source, destination, retrier, clock);
        this.whole = new WholeObjectCopier(replicas, source, destination, retrier, bytesReadFromSource);
        this.parts = new MultipartCopier(site, replicas, source, destination, settings, retrier, sourceVersionId, copyProgress, clock,
                serverSideCopy, bytesReadFromSource);
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry) {
        return replicate(entry, null);
    }

    /** Bytes of object data read from the source through this function so far (none when copies are server-side). */
    public long bytesReadFromSource() {
        return bytesReadFromSource.sum();
    }

    @Override
    public String sourceVersion(ReplicationEntry entry) {
        return sourceVersionId.apply(entry.versionId());
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry, Instant deadline) {
        return replicate(entry, deadline, null);
    }

    @Override
    public ReplicationOutcome replicate(ReplicationEntry entry, Instant deadline, Instant setAsideAt) {
        ReplicationOutcome outcome = replicateOnce(entry, deadline, setAsideAt);
        if (!outcome.isDeferred() && copyProgress != null && entry.metadata().contentLength() >= settings.multipartThresholdBytes()) {
            parts.forgetCopy(entry);
        }
        return outcome;
    }

    private ReplicationOutcome replicateOnce(ReplicationEntry entry, Instant deadline, Instant setAsideAt) {
        Retrier.Budget budget = retrier.newBudget(setAsideAt);
        String bucket = site.destinationBucket(entry.metadata());
        if (bucket == null || bucket.isBlank()) {
            return ReplicationOutcome.noBucket(site.name());
        }
        String key = site.destinationKey(entry.bucket(), entry.objectKey());
        String version = sourceVersionId.apply(entry.versionId());
        Set<String> mismatches = new HashSet<>();
        try {
            ReplicaSite.Latest head = retrier.call(budget, () -> replicas.headLatest(bucket, key));
            Optional<HeadObjectResponse> current = head.replica();
            // Under a delete marker at the site, the newest replica beneath it says what this version is to the site: a
            // replay (a populator or replicator restarted) re-reads versions already replicated, and copying one again
            // would put an old version over the marker (found by the chaos run: whole key histories copied twice). The
            // same for a delete marker: a marker on top with a newer version beneath is a newer marker, not this one (a
            // marker retried late, after its key's newer entries, was taken for done: found by the chaos run too).
            // A site that says when a marker is on top (S3's x-amz-delete-marker) spares the listing when none is.
            if (current.isEmpty() && !Boolean.FALSE.equals(head.deleteMarker())) {
                ReplicaSite.Beneath listed = retrier.call(budget, () -> replicas.newestReplicaUnderMarker(bucket, key));
                current = listed.replica();
                head = new ReplicaSite.Latest(head.replica(), listed.markerOnTop()); // the listing said it: no second look below
            }
            Map<String, String> atSite = current.map(HeadObjectResponse::metadata).orElse(Map.of());
            Optional<HeadObjectResponse> replica = current;
            ReplicaDecision.Facts facts = new ReplicaDecision.Facts(version, entry.metadata().isDeleteMarker(),
                    entry.metadata().replicationInfo().map(i -> i.isMetadataOnly()).orElse(false), entry.forceCopy(),
                    entry.metadata().contentLength(), current.map(h -> h.metadata().get(SOURCE_VERSION_META)).orElse(null),
                    head.replica().isEmpty() && Boolean.TRUE.equals(head.deleteMarker()));
            ReplicaDecision.Step step;
            while ((step = ReplicaDecision.next(facts, settings.multipartThresholdBytes(), serverSideCopy)) instanceof ReplicaDecision.Ask ask) {
                facts = switch (ask.question()) {
                    // A change of an older version's tags: its replica is beneath the latest at the site, re-tagged in place.
                    case REPLICA_BENEATH -> {
                        // A tag change's size is not the version's on every feed; a superseded version's is (its listing, its put).
                        Long size = facts.metadataOnly() ? null : facts.size();
                        yield facts.withOlderReplica(retrier.call(budget, () -> replicas.siteVersionOf(bucket, key, version, size)));
                    }
                    case SITE_REPLICA_NEWER -> facts.withSiteReplicaNewer(retrier.call(budget, () -> sourceHistory.isNewer(entry.bucket(),
                            entry.objectKey(), atSite.get(SOURCE_VERSION_META), atSite.get(SOURCE_LAST_MODIFIED_META), version,
                            entry.metadata().lastModified())));
                    case NEWER_MARKER_REPLICATED -> facts.withNewerMarker(supersededByMarkers(budget, entry, version, bucket, key));
                };
            }
            ReplicaDecision.Facts decided = facts;
            // What was decided and from what (BACKBEAT_LOG_LEVEL=DEBUG): how a finding of verify is traced to its cause.
            LOG.debug("site {}: {}/{} version {}: {} from {}", site.name(), entry.bucket(), entry.objectKey(), version,
                    ((ReplicaDecision.Act) step).action(), decided);
            return switch (((ReplicaDecision.Act) step).action()) {
                case ALREADY_THERE -> ReplicationOutcome.completed(budget.attempts(), 0);
                case RETAG_LATEST -> {
                    replicas.updateInPlace(budget, entry, version, bucket, key, replica.orElseThrow().versionId());
                    yield ReplicationOutcome.completed(budget.attempts(), 0);
                }
                case RETAG_OLDER -> {
                    replicas.updateInPlace(budget, entry, version, bucket, key, decided.olderReplica().orElseThrow());
                    yield ReplicationOutcome.completed(budget.attempts(), 0);
                }
                case SKIP_NEWER_VERSION -> ReplicationOutcome.skipped("superseded: a newer version (source version "
                        + decided.siteReplicaOf() + ") is already the latest at the site", budget.attempts());
                case SKIP_NEWER_MARKER -> ReplicationOutcome.skipped("superseded: a newer delete marker (source version "
                        + decided.newerMarker().orElseThrow() + ") is already replicated and on top at the site", budget.attempts());
                case REPLICATE_MARKER -> replicateDeleteMarker(budget, entry, version, bucket, key, head);
                case COPY_IN_PARTS -> copied(budget, parts.copy(budget, entry, version, bucket, key, mismatches,
                        copyProgress == null ? null : deadline));
                case COPY_SERVER_SIDE -> copied(budget, whole.copyServerSide(budget, entry, version, bucket, key, mismatches));
                case COPY_STREAMED -> copied(budget, whole.copyStreamed(budget, entry, version, bucket, key, mismatches));
            };
        } catch (MultipartCopier.CopyDeferred e) {
            return ReplicationOutcome.deferred(e.getMessage(), budget.attempts(), e.bytesThisTime);
        } catch (ReplicaSite.NotReplicable e) {
            return ReplicationOutcome.skipped(e.getMessage(), budget.attempts());
        } catch (Exception e) {
            return ReplicationOutcome.of(e, budget.attempts());
        }
    }

    @Override
    public boolean keysSharedBySourceBuckets() {
        return site.keysSharedBySourceBuckets();
    }

    @Override
    public String destinationBucket(ReplicationEntry entry) {
        return site.destinationBucket(entry.metadata());
    }

    @Override
    public Map<String, List<io.backbeatserverless.core.versions.ListedVersion>> siteHistories(String sourceBucket, String destinationBucket,
                                                                                          String prefix, String afterKey, String throughKey)
            throws Exception {
        String sitePrefix = site.destinationKey(sourceBucket, prefix == null ? "" : prefix);
        String siteAfter = afterKey == null ? null : site.destinationKey(sourceBucket, afterKey);
        String siteThrough = site.destinationKey(sourceBucket, throughKey);
        String sourcePart = site.destinationKey(sourceBucket, "");
        Map<String, List<io.backbeatserverless.core.versions.ListedVersion>> histories = new java.util.HashMap<>();
        for (var listed : retrier.call(retrier.newBudget(), () -> new io.backbeatserverless.adapters.aws.VersionListing(destination)
                .range(destinationBucket, sitePrefix, siteAfter, siteThrough, 1000))) {
            if (listed.key().startsWith(sourcePart)) {
                histories.put(listed.key().substring(sourcePart.length()), listed.versions());
            }
        }
        return histories;
    }

    @Override
    public List<String> replicaOf(String destinationBucket, String sourceBucket, String sourceKey,
                                  List<io.backbeatserverless.core.versions.ListedVersion> siteEntries) throws Exception {
        String key = site.destinationKey(sourceBucket, sourceKey);
        List<String> ids = new java.util.ArrayList<>();
        for (var entry : siteEntries) {
            String replicaOf = entry.deleteMarker() ? null : retrier.call(retrier.newBudget(), () -> destination.headObject(r -> r.bucket(destinationBucket)
                    .key(key).versionId(entry.versionId())).metadata().get(ReplicaMarkers.SOURCE_VERSION));
            ids.add(replicaOf == null ? null : entryVersionId.apply(replicaOf)); // a replica names the source API's id
        }
        return ids;
    }

    @Override
    public Optional<String> newestSourceMarkerAbove(String sourceBucket, String sourceKey, String version) throws Exception {
        String sourceVersion = sourceVersionId.apply(version);
        List<KeyEntries.Listed> newer = retrier.call(retrier.newBudget(), () -> sourceHistory.entries(sourceBucket, sourceKey, sourceVersion));
        if (newer.stream().noneMatch(l -> l.versionId().equals(sourceVersion))) {
            return Optional.empty(); // the page's version is gone at the source: what is above it cannot be told
        }
        return SourceHistory.markersNewerThan(newer, sourceVersion).stream().findFirst().map(entryVersionId);
    }

    @Override
    public InOrder copyInOrder(List<ReplicationEntry> history, String currentETag) {
        WholeObjectCopier.WriteCondition condition = currentETag == null ? WholeObjectCopier.WriteCondition.keyAbsent()
                : WholeObjectCopier.WriteCondition.currentIs(currentETag);
        if (currentETag == null && !history.isEmpty() && !stillEmpty(history.getFirst())) {
            return new InOrder(0, 0);
        }
        int done = 0;
        long bytes = 0;
        for (ReplicationEntry entry : history) {
            Retrier.Budget budget = retrier.newBudget();
            String bucket = site.destinationBucket(entry.metadata());
            String key = site.destinationKey(entry.bucket(), entry.objectKey());
            String version = sourceVersionId.apply(entry.versionId());
            try {
                WholeObjectCopier.Copied copied = serverSideCopy
                        ? whole.copyServerSide(budget, entry, version, bucket, key, new HashSet<>(), condition)
                        : whole.copyStreamed(budget, entry, version, bucket, key, new HashSet<>(), condition);
                condition = WholeObjectCopier.WriteCondition.currentIs(copied.eTag());
                done++;
                bytes += copied.bytes();
            } catch (Exception e) {
                // A condition that failed (a live write came first), a version gone, an error: the rest one at a time.
                LOG.debug("site {}: {}/{} version {} not copied in order ({}); the key's rest goes one version at a time", site.name(),
                        entry.bucket(), entry.objectKey(), version, e.toString());
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                break;
            }
        }
        return new InOrder(done, bytes);
    }

    /**
     * Whether the key still has no entry at the site, right before a page's first copy onto it. The page listed the site
     * up to seconds before (its keys are copied a few at a time), and S3's {@code If-None-Match: *} passes over a delete
     * marker (a marker is no object: S3 User Guide, conditional writes), so a marker the live path wrote in between would
     * end beneath the page's older versions (found by the chaos run of a backfill beside live deletes: a marker missing at
     * both sites). One look at the key narrows that window to this request's; what still slips through is mended after
     * the page ({@code PageReplicator}). The look is a HEAD where the site says a marker is on top
     * ({@code x-amz-delete-marker} on the 404, {@link SiteConfig#deleteMarkerHeader}), else the listing the live path
     * takes for the same question ({@link ReplicaSite#newestReplicaUnderMarker}): a LIST costs 12.5 times a HEAD on S3's
     * price list (docs/scale-and-cost.md), and with a listing per key the 10,000-version race ran at half its speed on the
     * stack's S3 server. False (the key's versions then go one at a time) when the site cannot be read.
     */
    private boolean stillEmpty(ReplicationEntry first) {
        String bucket = site.destinationBucket(first.metadata());
        String key = site.destinationKey(first.bucket(), first.objectKey());
        try {
            Retrier.Budget budget = retrier.newBudget();
            ReplicaSite.Latest head = retrier.call(budget, () -> replicas.headLatest(bucket, key));
            if (head.replica().isPresent()) {
                return false;
            }
            if (head.deleteMarker() != null) {
                return !head.deleteMarker();
            }
            // A 404 that does not say: no current object, so the key is empty unless a delete marker is its latest entry.
            return !retrier.call(budget, () -> replicas.newestReplicaUnderMarker(bucket, key)).markerOnTop();
        } catch (Exception e) {
            LOG.debug("site {}: could not look at {} again before copying onto it: {}", site.name(), key, e.toString());
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return false;
        }
    }

    /** A copy's outcome, its attempts counted once the copy is done (every request of it counts). */
    private static ReplicationOutcome copied(Retrier.Budget budget, long bytes) {
        return ReplicationOutcome.completed(budget.attempts(), bytes);
    }

    /**
     * A source delete marker newer than this version that stands on top at the site already, if one does: then this
     * version, or this older marker, replicated late (an operator's retry of a failed version, a replay, a backfill page
     * beside live writes of its keys), must not go over it (found by the chaos run: a retried version landed over two
     * newer markers, the site's latest a version where the source's is a marker). A marker at the site cannot say which
     * source marker it is, so two things tell: the status table, when it has a newer marker COMPLETED here; and the count,
     * when the site has more markers above its replica of the key's newest version beneath than the source has between
     * that version and this one, for then one of those is a newer marker's. The count is what the site holds now: the
     * status table lags it by the status processor's turn (seconds, more while it restarts), and a version copied in that
     * window went over the marker the live path had just made (found by the chaos run: a delete marker missing at a site
     * while its status said COMPLETED). Markers not at the site yet are still to come after this version, which is then
     * copied, as in order.
     */
    private Optional<String> supersededByMarkers(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket,
                                                 String key) throws Exception {
        MarkersOnTop onTop = markersOnTop(budget, entry, bucket, key);
        List<String> newerMarkers = SourceHistory.markersNewerThan(onTop.history(), version);
        if (newerMarkers.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> recorded = retrier.call(budget, () -> siteStatuses.firstCompleted(site.name(), entry.bucket(), entry.objectKey(),
                newerMarkers));
        if (recorded.isPresent()) {
            return recorded;
        }
        // This site's replicator's own record, which has a marker the moment it is written (found by the chaos run: the
        // newest marker, made first on a key the site had nothing of, was taken by the count below for the oldest one's, and
        // the key's older history, replicated late by a backfill page, went over it while the status table lagged 55 s).
        Set<String> written = retrier.call(budget, () -> writtenMarkers.written(site.name(), entry.bucket(), entry.objectKey(), newerMarkers));
        Optional<String> writtenHere = newerMarkers.stream().filter(written::contains).findFirst();
        if (writtenHere.isPresent()) {
            return writtenHere;
        }
        int dueUpToThis = SourceHistory.markersBetween(onTop.history(), onTop.anchor().replicaOf(), version);
        return dueUpToThis >= 0 && onTop.anchor().markers() > dueUpToThis ? Optional.of(newerMarkers.getLast()) : Optional.empty();
    }

    /**
     * The delete markers on top of the key at the site ({@code top}: above its newest replica), the source's history of the
     * key newest first down to that replica's version, and where the two meet ({@code anchor}): the site's newest replica
     * of a version the source still lists, with the site's markers above it.
     */
    private record MarkersOnTop(ReplicaSite.SiteTop top, ReplicaSite.SiteTop anchor, List<KeyEntries.Listed> history) {
    }

    private MarkersOnTop markersOnTop(Retrier.Budget budget, ReplicationEntry entry, String bucket, String key) throws Exception {
        ReplicaSite.SiteTop top = retrier.call(budget, () -> replicas.siteTop(bucket, key));
        List<KeyEntries.Listed> history = retrier.call(budget, () -> sourceHistory.entries(entry.bucket(), entry.objectKey(), top.replicaOf()));
        if (top.replicaOf() == null || history.stream().anyMatch(l -> l.versionId().equals(top.replicaOf()))) {
            return new MarkersOnTop(top, top, history);
        }
        // The replica beneath is of a version deleted at the source since: counted from it, every marker of the key below it
        // would be wanted again on top (found by the chaos run of a backfill: three markers added at once where one was
        // due). Counted from the newest replica whose version the source still lists, with the site's markers above that one.
        java.util.Set<String> listed = new java.util.HashSet<>();
        history.forEach(l -> listed.add(l.versionId()));
        return new MarkersOnTop(top, retrier.call(budget, () -> replicas.anchor(bucket, key, listed)), history);
    }

    /**
     * A delete marker becomes a DELETE at the site, so that the site has, on top of its replica of the key's newest
     * version beneath, as many markers as the source has from that version up to this one: each source marker has its
     * own at the site, as S3 Replication replicates each (found running as deployed: two markers in a row at the source
     * were one at the site). A marker is the same as any other, so it is their count that makes a replay idempotent: a
     * replayed marker finds the count reached and writes nothing, and a DELETE whose answer was lost is not sent again
     * once the count is there. With no marker on top (a replica, or nothing) this marker makes one, with no listing:
     * the common case, a key deleted once, costs no more than a DELETE; markers already on top are counted against
     * the source's (one listing of the key at each side), and those whose entries are late are made up there.
     */
    private ReplicationOutcome replicateDeleteMarker(Retrier.Budget budget, ReplicationEntry entry, String version, String bucket,
                                                     String key, ReplicaSite.Latest head) throws Exception {
        boolean markerOnTop = head.replica().isEmpty() && !Boolean.FALSE.equals(head.deleteMarker());
        MarkersOnTop onTop = markerOnTop ? markersOnTop(budget, entry, bucket, key) : null;
        ReplicaSite.SiteTop top = onTop == null ? new ReplicaSite.SiteTop(0, null) : onTop.top();
        // The markers above the site's newest replica that stand for source markers, and how many the source has above that
        // replica's version up to this marker. A marker the source no longer lists (its version was deleted there, counted
        // -1): the marker on top stands for it.
        int standing = top.markers();
        int wanted = 1;
        if (top.markers() > 0) {
            standing = onTop.anchor().markers();
            wanted = Math.max(1, SourceHistory.markersBetween(onTop.history(), onTop.anchor().replicaOf(), version));
        }
        if (standing < wanted) {
            // Recorded before the DELETE: a late older entry must not go over this marker while its outcome is on its way.
            retrier.call(budget, () -> {
                writtenMarkers.noteWriting(site.name(), entry.bucket(), entry.objectKey(), version);
                return null;
            });
        }
        ReplicaSite.AnswerLost lost = new ReplicaSite.AnswerLost();
        for (int added = 0; standing + added < wanted; added++) {
            int needed = top.markers() + added + 1;
            retrier.call(budget, () -> {
                // Each DELETE adds a marker: after one whose answer never came, look before deleting again.
                if (lost.workThere(() -> replicas.siteTop(bucket, key).markers() >= needed)) {
                    return null;
                }
                return lost.noting(() -> destination.deleteObject(r -> r.bucket(bucket).key(key)));
            });
        }
        return ReplicationOutcome.completed(budget.attempts(), 0);
    }
}
