package io.backbeatserverless.replicator;

import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.ReplicationStatusStore;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.core.status.VersionStatus;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/** What the status table says a site already has of a key's source versions. */
@FunctionalInterface
public interface SiteStatuses {

    /** Knows nothing: no version counts as replicated (a replicator without the status table). */
    SiteStatuses UNKNOWN = (site, bucket, key, versions) -> Optional.empty();

    /**
     * The first of {@code s3VersionIds} (as the source's S3 API spells them) of the key that is COMPLETED at
     * {@code site}, if one is; one read of the table for all of them.
     */
    Optional<String> firstCompleted(String site, String bucket, String key, List<String> s3VersionIds);

    /**
     * @param statusVersionId the status table's spelling of a source S3 API version id (CloudServer sources: internal)
     */
    static SiteStatuses of(ReplicationStatusStore store, UnaryOperator<String> statusVersionId) {
        return (site, bucket, key, versions) -> {
            if (versions.isEmpty()) {
                return Optional.empty();
            }
            Map<VersionRef, VersionStatus> found = store.findAll(versions.stream()
                    .map(v -> new VersionRef(bucket, key, statusVersionId.apply(v))).toList());
            return versions.stream().filter(v -> {
                VersionStatus status = found.get(new VersionRef(bucket, key, statusVersionId.apply(v)));
                SiteOutcome outcome = status == null ? null : status.sites().get(site);
                return outcome != null && outcome.status() == ReplicationStatus.COMPLETED;
            }).findFirst();
        };
    }
}
