package io.backbeatserverless.core.status;

import java.util.LinkedHashMap;
import java.util.Map;

/** The replication status of one object version at every site it goes to. */
public record VersionStatus(String bucket, String objectKey, String versionId, long size, String lastModified,
                            Map<String, SiteOutcome> sites) {

    public VersionStatus {
        sites = Map.copyOf(sites);
    }

    /** Derived, never stored: FAILED if any site failed, PROCESSING while any is pending, else COMPLETED. */
    public ReplicationStatus overall() {
        Map<String, ReplicationStatus> bySite = new LinkedHashMap<>();
        sites.forEach((site, outcome) -> bySite.put(site, outcome.status()));
        return StatusMerge.overall(bySite);
    }
}
