package io.backbeatserverless.populator;

import io.backbeatserverless.adapters.aws.BucketReplicationReader;
import io.backbeatserverless.core.rules.InvalidReplicationConfigurationException;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each source bucket's replication rules, read from the bucket itself and checked against the
 * configured sites. A bucket whose configuration is malformed or names an unknown site has no rules,
 * and is reported once with the bucket and the problem (again only if the problem changes).
 */
final class BucketRules {

    private static final Logger LOG = LoggerFactory.getLogger(BucketRules.class);

    private final BucketReplicationReader reader;
    private final Collection<String> knownSites;
    private final Map<String, String> reportedProblems = new ConcurrentHashMap<>();

    BucketRules(BucketReplicationReader reader, Collection<String> knownSites) {
        this.reader = reader;
        this.knownSites = List.copyOf(knownSites);
    }

    /** The bucket's valid rules, or null when it has none (or none that can be used). */
    ReplicationConfiguration of(String bucket) {
        try {
            ReplicationConfiguration rules = reader.read(bucket).orElse(null);
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
}
