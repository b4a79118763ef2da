package io.backbeatserverless.core.metadata;

import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationRule;
import io.backbeatserverless.core.status.ReplicationStatus;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The metadata document of a version a rule selected, for feeds whose source does not write
 * CloudServer metadata (listing, S3 events): PENDING to each site the rule names, as CloudServer
 * would have recorded it. The feeds build it for each version they queue, verify for each it repairs.
 */
public final class PendingVersions {

    private PendingVersions() {
    }

    public static ObjectMetadata metadataOf(String key, String versionId, long size, String eTag, Instant lastModified, boolean deleteMarker,
                                     ReplicationConfiguration rules, ReplicationRule rule, Map<String, String> tags) {
        return metadataOf(key, versionId, size, eTag, lastModified, deleteMarker, rules, rule, tags, List.of("DATA", "METADATA"));
    }

    /**
     * A change of a version's metadata alone (its tags: S3's s3:ObjectTagging:Put and :Delete events): content
     * {@code METADATA}, as CloudServer logs a tag change, so the replicator re-tags the replica and copies no byte. No
     * last-modified time: the change's own time is not the version's, which orders it among the key's versions.
     */
    public static ObjectMetadata metadataChangeOf(String key, String versionId, long size, String eTag,
                                                  ReplicationConfiguration rules, ReplicationRule rule, Map<String, String> tags) {
        return metadataOf(key, versionId, size, eTag, null, false, rules, rule, tags, List.of("METADATA"));
    }

    /**
     * A version whose tags could not be read, so its rule is not chosen yet: PENDING to every site a candidate rule names,
     * with the candidates kept in the document ({@link ObjectMetadata#UNDECIDED_RULES}) for the replicator to choose from
     * once it has read the tags. {@code metadataOnly}: a tag change (content {@code METADATA}) rather than a new version.
     */
    public static ObjectMetadata undecidedOf(String key, String versionId, long size, String eTag, Instant lastModified,
                                             boolean metadataOnly, ReplicationConfiguration candidates) {
        List<String> sites = List.copyOf(candidates.sites());
        List<ObjectMetadata.Backend> backends = sites.stream().map(site -> new ObjectMetadata.Backend(site, ReplicationStatus.PENDING, "")).toList();
        ReplicationRule first = candidates.rules().getFirst();
        return ObjectMetadata.builder(key, versionId)
                .contentLength(size)
                .contentMd5(eTag == null ? null : eTag.replace("\"", ""))
                .lastModified(metadataOnly || lastModified == null ? null : lastModified.toString())
                .undecidedRules(candidates)
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING, backends,
                        metadataOnly ? List.of("METADATA") : List.of("DATA", "METADATA"), first.destinationBucket(),
                        String.join(",", sites), candidates.role()))
                .build();
    }

    private static ObjectMetadata metadataOf(String key, String versionId, long size, String eTag, Instant lastModified, boolean deleteMarker,
                                             ReplicationConfiguration rules, ReplicationRule rule, Map<String, String> tags,
                                             List<String> content) {
        List<ObjectMetadata.Backend> backends = rule.sites().stream()
                .map(site -> new ObjectMetadata.Backend(site, ReplicationStatus.PENDING, "")).toList();
        return ObjectMetadata.builder(key, versionId)
                .contentLength(size)
                .contentMd5(eTag == null ? null : eTag.replace("\"", ""))
                .lastModified(lastModified == null ? null : lastModified.toString())
                .deleteMarker(deleteMarker)
                .tags(tags)
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING, backends,
                        content, rule.destinationBucket(), String.join(",", rule.sites()), rules.role()))
                .build();
    }
}
