package io.backbeatserverless.core.status;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The replication status of one object version at every site it goes to.
 *
 * @param deleteMarker whether the version is a delete marker (what a forced retry rebuilds it as: issue 28)
 */
public record VersionStatus(String bucket, String objectKey, String versionId, long size, String lastModified,
                            Map<String, SiteOutcome> sites, boolean deleteMarker) {

    public VersionStatus {
        sites = Map.copyOf(sites);
    }

    public VersionStatus(String bucket, String objectKey, String versionId, long size, String lastModified, Map<String, SiteOutcome> sites) {
        this(bucket, objectKey, versionId, size, lastModified, sites, false);
    }

    /** Derived, never stored: FAILED if any site failed, PROCESSING while any is pending, else COMPLETED. */
    public ReplicationStatus overall() {
        Map<String, ReplicationStatus> bySite = new LinkedHashMap<>();
        sites.forEach((site, outcome) -> bySite.put(site, outcome.status()));
        return StatusMerge.overall(bySite);
    }
}
