package io.backbeatserverless.verifier;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.adapters.cloudserver.CloudServerBackbeatRoutes;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.CloudServerVersionIds;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.metadata.PendingVersions;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationRule;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.versions.ListedVersion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The replication entry that queues a version again for one site, as its feed would have made it: for a
 * CloudServer source its own metadata (read through the backbeat route, so a CloudServer site gets the whole
 * document), for any other source the document the listing and event feeds build.
 */
@FunctionalInterface
public interface RepairEntries {

    /** {@code tagsOnly}: the entry of a change of the version's tags alone, which re-tags its replica in place. */
    ReplicationEntry entry(String bucket, ListedVersion version, ReplicationConfiguration config, ReplicationRule rule,
                           Map<String, String> tags, String site, boolean forceCopy, boolean tagsOnly);

    /** For S3 and S3-compatible sources. */
    static RepairEntries fromListing() {
        return (bucket, v, config, rule, tags, site, forceCopy, tagsOnly) -> {
            ObjectMetadata metadata = (tagsOnly ? PendingVersions.metadataChangeOf(v.key(), v.versionId(), v.size(), v.eTag(), config, rule, tags)
                    : PendingVersions.metadataOf(v.key(), v.versionId(), v.size(), v.eTag(), v.lastModified(), v.deleteMarker(), config, rule, tags))
                    .onlySite(site);
            return new ReplicationEntry(ReplicationEntry.TYPE_PUT, bucket, new VersionKey(v.key(), v.versionId()), metadata, null, forceCopy);
        };
    }

    /** For a CloudServer source, whose listing gives external version ids and whose entries carry internal ones. */
    static RepairEntries fromCloudServer(CloudServerBackbeatRoutes routes) {
        ObjectMapper mapper = new ObjectMapper();
        return (bucket, v, config, rule, tags, site, forceCopy, tagsOnly) -> {
            try {
                ObjectMetadata stored = ObjectMetadata.of((ObjectNode) mapper.readTree(routes.getMetadata(bucket, v.key(), v.versionId())));
                // A version stored before its bucket had rules has no replicationInfo yet: its rule's, as CloudServer gives it.
                ObjectMetadata ruleGives = PendingVersions.metadataOf(v.key(), v.versionId(), v.size(), v.eTag(), v.lastModified(),
                        v.deleteMarker(), config, rule, tags);
                ObjectMetadata metadata = stored.withSiteStatus(site, ReplicationStatus.PENDING, ruleGives.replicationInfo().orElseThrow())
                        .onlySite(site);
                if (tagsOnly) {
                    metadata = metadata.asMetadataChange(); // as CloudServer logs a tag change: content METADATA
                }
                return new ReplicationEntry(ReplicationEntry.TYPE_PUT, bucket,
                        new VersionKey(v.key(), CloudServerVersionIds.toInternal(v.versionId())), metadata, null, forceCopy);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + bucket + "/" + v.key() + " version " + v.versionId()
                        + " from the source to repair it: " + e.getMessage(), e);
            }
        };
    }
}
