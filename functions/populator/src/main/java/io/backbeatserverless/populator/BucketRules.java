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
import java.util.Optional;
import java.util.function.Function;

/**
 * Each source bucket's replication rules, read from the bucket itself and checked against the
 * configured sites. A bucket whose configuration is malformed or names an unknown site has no rules,
 * and is reported once with the bucket and the problem (again only if the problem changes).
 */
public final class BucketRules {

    private static final Logger LOG = LoggerFactory.getLogger(BucketRules.class);

    private final Function<String, Optional<ReplicationConfiguration>> reader;
    private final Collection<String> knownSites;
    private final Map<String, String> reportedProblems = new ConcurrentHashMap<>();

    /** @param reader a bucket's configuration, from the bucket itself or the rule store; throws when it is invalid */
    BucketRules(Function<String, Optional<ReplicationConfiguration>> reader, Collection<String> knownSites) {
        this.reader = reader;
        this.knownSites = List.copyOf(knownSites);
    }

    /** Rules read from each bucket's own replication configuration. */
    public static BucketRules fromBuckets(software.amazon.awssdk.services.s3.S3Client source, Collection<String> knownSites) {
        BucketReplicationReader reader = new BucketReplicationReader(source);
        return new BucketRules(reader::read, knownSites);
    }

    /** Rules kept in the project's rule store (AWS S3 sources). */
    public static BucketRules fromStore(io.backbeatserverless.core.rules.RuleStore store, Collection<String> knownSites) {
        return new BucketRules(bucket -> store.find(bucket).map(io.backbeatserverless.core.rules.ReplicationConfigurationParser::parse),
                knownSites);
    }

    /** The bucket's valid rules, or null when it has none (or none that can be used). */
    ReplicationConfiguration of(String bucket) {
        try {
            ReplicationConfiguration rules = reader.apply(bucket).orElse(null);
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
