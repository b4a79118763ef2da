package io.backbeatserverless.populator;

import io.backbeatserverless.adapters.aws.BucketReplicationReader;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationRule;
import io.backbeatserverless.core.status.ReplicationStatusStore;
import io.backbeatserverless.core.status.VersionRef;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Bucket;
import software.amazon.awssdk.services.s3.model.DeleteMarkerEntry;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ObjectVersion;
import software.amazon.awssdk.services.s3.model.Tag;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The listing feed: {@code ListObjectVersions} over every bucket that has a valid replication
 * configuration, for any S3-compatible source. A version is new when the status store has never
 * recorded it; acknowledging a batch records its versions as queued (PENDING), which is this feed's
 * checkpoint. Rules are matched here (the source does not do it, unlike CloudServer), with tags read
 * only for rules that filter on them.
 *
 * <p>A bucket whose configuration is malformed or names an unknown site is skipped with one log line
 * naming the bucket and the problem (again only if the problem changes); other buckets go on.
 */
public final class ListingChangeFeed implements ChangeFeed {

    private final S3Client source;
    private final BucketRules bucketRules;
    private final ReplicationStatusStore statusStore;
    private final int maxBatch;
    /** Versions known to be recorded, so steady-state scans do not ask the store again. */
    private final Set<VersionRef> recorded = ConcurrentHashMap.newKeySet();
    /** Versions no rule selects (or delete markers a rule does not replicate): never queued. */
    private final Set<VersionRef> notSelected = ConcurrentHashMap.newKeySet();

    public ListingChangeFeed(S3Client source, ReplicationStatusStore statusStore, Collection<String> knownSites, int maxBatch) {
        this.source = source;
        this.bucketRules = new BucketRules(new BucketReplicationReader(source), knownSites);
        this.statusStore = statusStore;
        this.maxBatch = maxBatch;
    }

    @Override
    public String name() {
        return "listing";
    }

    @Override
    public Batch next() {
        List<SourceVersion> found = new ArrayList<>();
        for (Bucket bucket : source.listBuckets().buckets()) {
            ReplicationConfiguration rules = bucketRules.of(bucket.name());
            if (rules != null) {
                found.addAll(newVersions(bucket.name(), rules, maxBatch - found.size()));
                if (found.size() >= maxBatch) {
                    break;
                }
            }
        }
        return new Batch(found, null);
    }

    @Override
    public void acknowledge(Batch batch) {
        for (SourceVersion version : batch.versions()) {
            ObjectMetadata md = version.metadata();
            statusStore.recordQueued(version.ref(), md.contentLength(), md.lastModified(),
                    md.replicationInfo().map(ObjectMetadata.ReplicationInfo::sites).orElse(List.of()));
            recorded.add(version.ref());
        }
    }

    private List<SourceVersion> newVersions(String bucket, ReplicationConfiguration rules, int limit) {
        // Gather every version of each key first: the listing gives them newest first and delete
        // markers apart, while they must be queued oldest first.
        Map<String, List<Listed>> byKey = new LinkedHashMap<>();
        for (ListObjectVersionsResponse page : source.listObjectVersionsPaginator(r -> r.bucket(bucket))) {
            for (ObjectVersion v : page.versions()) {
                byKey.computeIfAbsent(v.key(), k -> new ArrayList<>()).add(new Listed(v.key(), v.versionId(),
                        v.lastModified(), v.size() == null ? 0 : v.size(), stripQuotes(v.eTag()), false));
            }
            for (DeleteMarkerEntry d : page.deleteMarkers()) {
                byKey.computeIfAbsent(d.key(), k -> new ArrayList<>()).add(new Listed(d.key(), d.versionId(),
                        d.lastModified(), 0, null, true));
            }
        }
        List<Listed> candidates = new ArrayList<>();
        for (List<Listed> versions : byKey.values()) {
            versions.sort(Comparator.comparing(Listed::lastModified));
            for (Listed l : versions) {
                VersionRef ref = new VersionRef(bucket, l.key(), l.versionId());
                if (!recorded.contains(ref) && !notSelected.contains(ref)) {
                    candidates.add(l);
                }
            }
        }
        if (candidates.isEmpty()) {
            return List.of();
        }
        Set<VersionRef> alreadyRecorded = statusStore.recorded(candidates.stream()
                .map(l -> new VersionRef(bucket, l.key(), l.versionId())).toList());
        recorded.addAll(alreadyRecorded);
        List<SourceVersion> result = new ArrayList<>();
        for (Listed l : candidates) {
            VersionRef ref = new VersionRef(bucket, l.key(), l.versionId());
            if (alreadyRecorded.contains(ref)) {
                continue;
            }
            Map<String, String> tags = l.deleteMarker() || !rules.needsTagsFor(l.key()) ? Map.of() : tagsOf(bucket, l);
            ReplicationRule rule = rules.ruleFor(l.key(), tags).orElse(null);
            if (rule == null || (l.deleteMarker() && !rule.deleteMarkerReplication())) {
                notSelected.add(ref);
                continue;
            }
            result.add(new SourceVersion(bucket, PendingVersions.metadataOf(l.key(), l.versionId(), l.size(), l.eTag(), l.lastModified(),
                    l.deleteMarker(), rules, rule, tags)));
            if (result.size() >= limit) {
                break;
            }
        }
        return result;
    }

    private Map<String, String> tagsOf(String bucket, Listed l) {
        Map<String, String> tags = new HashMap<>();
        for (Tag t : source.getObjectTagging(r -> r.bucket(bucket).key(l.key()).versionId(l.versionId())).tagSet()) {
            tags.put(t.key(), t.value());
        }
        return tags;
    }

    private static String stripQuotes(String eTag) {
        return eTag == null ? null : eTag.replace("\"", "");
    }

    private record Listed(String key, String versionId, Instant lastModified, long size, String eTag, boolean deleteMarker) {
    }
}
