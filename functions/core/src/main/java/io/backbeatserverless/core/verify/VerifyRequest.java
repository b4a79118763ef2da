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
 * @param deep       compare every version by a HEAD and its tags at the source and the site (content headers, user
 *                   metadata, tags, the replica marker), not by the listings alone (issue 29)
 * @param sample     the fraction of keys compared as {@code deep} is, the others by the listings (0: none, 1: all)
 */
public record VerifyRequest(String bucket, List<String> sites, String prefix, boolean repair, Duration stuckAfter, boolean deep,
                            double sample) {

    /** A key in a hundred is read whole by default: a check of what listings do not carry, at a hundredth of the cost. */
    public static final double DEFAULT_SAMPLE = 0.01;

    public VerifyRequest(String bucket, List<String> sites, String prefix, boolean repair, Duration stuckAfter) {
        this(bucket, sites, prefix, repair, stuckAfter, false, DEFAULT_SAMPLE);
    }

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
        if (!(sample >= 0 && sample <= 1)) {
            throw new IllegalArgumentException("sample must be a fraction from 0 to 1");
        }
    }

    /**
     * Whether {@code key} is compared by its HEADs and tags: every key when deep, else the sampled fraction of keys, the
     * same ones on every run (by the key's hash), so that a run repeated checks what it checked.
     */
    public boolean readsWhole(String key) {
        return deep || (sample > 0 && Math.floorMod(key.hashCode() * 0x9E3779B9, 10_000) < sample * 10_000);
    }

    public boolean checks(String site) {
        return sites.isEmpty() || sites.contains(site);
    }
}
