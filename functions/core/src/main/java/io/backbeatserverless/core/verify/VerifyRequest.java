package io.backbeatserverless.core.verify;

import java.time.Duration;
import java.util.List;

/**
 * What an operator asks verify to check.
 *
 * @param bucket     the source bucket; null for every bucket that has replication rules
 * @param sites      the sites to check; empty for every site the rules name
 * @param prefix     only keys under it ("" for all)
 * @param repair     queue missing, divergent and stuck versions again, through the normal path
 * @param stuckAfter how long a version may be on its way (not at the site, no outcome) before it is reported
 */
public record VerifyRequest(String bucket, List<String> sites, String prefix, boolean repair, Duration stuckAfter) {

    /** S3 Replication Time Control's promise: 15 minutes. */
    public static final Duration DEFAULT_STUCK_AFTER = Duration.ofMinutes(15);

    public VerifyRequest {
        bucket = bucket == null || bucket.isBlank() ? null : bucket;
        sites = sites == null ? List.of() : List.copyOf(sites);
        prefix = prefix == null ? "" : prefix;
        stuckAfter = stuckAfter == null ? DEFAULT_STUCK_AFTER : stuckAfter;
        if (stuckAfter.isNegative()) {
            throw new IllegalArgumentException("stuckAfter must not be negative");
        }
    }

    public boolean checks(String site) {
        return sites.isEmpty() || sites.contains(site);
    }
}
