package io.backbeatserverless.populator;

import io.backbeatserverless.adapters.aws.BucketReplicationReader;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.rules.InvalidReplicationConfigurationException;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationRule;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.ReplicationStatusStore;
import io.backbeatserverless.core.status.VersionRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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

    private static final Logger LOG = LoggerFactory.getLogger(ListingChangeFeed.class);

    private final S3Client source;
    private final BucketReplicationReader rulesReader;
    private final ReplicationStatusStore statusStore;
    private final Collection<String> knownSites;
    private final int maxBatch;
    /** Versions known to be recorded, so steady-state scans do not ask the store again. */
    private final Set<VersionRef> recorded = ConcurrentHashMap.newKeySet();
    /** Versions no rule selects (or delete markers a rule does not replicate): never queued. */
    private final Set<VersionRef> notSelected = ConcurrentHashMap.newKeySet();
    private final Map<String, String> reportedProblems = new ConcurrentHashMap<>();

    public ListingChangeFeed(S3Client source, ReplicationStatusStore statusStore, Collection<String> knownSites, int maxBatch) {
        this.source = source;
        this.rulesReader = new BucketReplicationReader(source);
        this.statusStore = statusStore;
        this.knownSites = List.copyOf(knownSites);
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
            ReplicationConfiguration rules = rulesOf(bucket.name());
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

    private ReplicationConfiguration rulesOf(String bucket) {
        try {
            ReplicationConfiguration rules = rulesReader.read(bucket).orElse(null);
            if (rules != null) {
                rules.requireKnownSites(knownSites);
                if (reportedProblems.remove(bucket) != null) {
                    LOG.info("bucket '{}': replication configuration is valid again, replicating it", bucket);
                }
            }
            return rules;
        } catch (InvalidReplicationConfigurationException e) {
            if (!e.getMessage().equals(reportedProblems.put(bucket, e.getMessage()))) {
                LOG.error("bucket '{}' skipped: its replication configuration is invalid: {}", bucket, e.getMessage());
            }
            return null;
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
            result.add(new SourceVersion(bucket, metadataOf(l, rules, rule, tags)));
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

    private static ObjectMetadata metadataOf(Listed l, ReplicationConfiguration rules, ReplicationRule rule, Map<String, String> tags) {
        List<ObjectMetadata.Backend> backends = rule.sites().stream()
                .map(site -> new ObjectMetadata.Backend(site, ReplicationStatus.PENDING, "")).toList();
        return ObjectMetadata.builder(l.key(), l.versionId())
                .contentLength(l.size())
                .contentMd5(l.eTag())
                .lastModified(l.lastModified().toString())
                .deleteMarker(l.deleteMarker())
                .tags(tags)
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING, backends,
                        List.of("DATA", "METADATA"), rule.destinationBucket(), String.join(",", rule.sites()), rules.role()))
                .build();
    }

    private static String stripQuotes(String eTag) {
        return eTag == null ? null : eTag.replace("\"", "");
    }

    private record Listed(String key, String versionId, Instant lastModified, long size, String eTag, boolean deleteMarker) {
    }
}
