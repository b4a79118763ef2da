package io.backbeatserverless.adapters.aws;

import io.backbeatserverless.core.rules.InvalidReplicationConfigurationException;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser;
import io.backbeatserverless.core.rules.RuleStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Each source bucket's replication rules, read from the bucket itself or from the rule store, and checked
 * against the configured sites. A bucket has rules, none, or a configuration that cannot be used (malformed,
 * or naming an unknown site): that problem is logged once with the bucket (again only if it changes) and
 * returned, so each caller decides what its versions become (the listing feed lists the bucket again on its
 * next pass, the event feed leaves their events in the queue, verify reports the bucket).
 */
public final class BucketRules {

    private static final Logger LOG = LoggerFactory.getLogger(BucketRules.class);

    private final Function<String, Optional<ReplicationConfiguration>> reader;
    private final Collection<String> knownSites;
    private final Map<String, String> reportedProblems = new ConcurrentHashMap<>();

    /** @param reader a bucket's configuration, from the bucket itself or the rule store; throws when it is invalid */
    public BucketRules(Function<String, Optional<ReplicationConfiguration>> reader, Collection<String> knownSites) {
        this.reader = reader;
        this.knownSites = List.copyOf(knownSites);
    }

    /** Rules read from each bucket's own replication configuration. */
    public static BucketRules fromBuckets(S3Client source, Collection<String> knownSites) {
        return new BucketRules(new BucketReplicationReader(source)::read, knownSites);
    }

    /** The rules a configuration says to use: the buckets' own (source.rulesFrom bucket) or the rule store's. */
    public static BucketRules forSource(io.backbeatserverless.adapters.config.BackbeatConfig config, S3Client source,
                                        software.amazon.awssdk.services.dynamodb.DynamoDbClient dynamo) {
        return io.backbeatserverless.adapters.config.BackbeatConfig.SourceConfig.RULES_FROM_STORE.equals(config.source().rulesFrom())
                ? fromStore(new io.backbeatserverless.adapters.dynamodb.DynamoDbRuleStore(dynamo, config.dynamodb().tables().rules()),
                config.siteNames())
                : fromBuckets(source, config.siteNames());
    }

    /** Rules kept in the project's rule store (AWS S3 sources). */
    public static BucketRules fromStore(RuleStore store, Collection<String> knownSites) {
        return new BucketRules(bucket -> store.find(bucket).map(ReplicationConfigurationParser::parse), knownSites);
    }

    /**
     * What a bucket's configuration says.
     *
     * @param rules   its valid rules; null when it has none or they cannot be used
     * @param problem why they cannot be used; null when they can (or there are none)
     */
    public record Lookup(ReplicationConfiguration rules, String problem) {
        public boolean invalid() {
            return problem != null;
        }
    }

    public Lookup lookup(String bucket) {
        try {
            ReplicationConfiguration rules = reader.apply(bucket).orElse(null);
            if (rules != null) {
                rules.requireKnownSites(knownSites);
            }
            if (reportedProblems.remove(bucket) != null) {
                LOG.info("bucket '{}': replication configuration is {}, replicating it", bucket, rules == null ? "gone" : "valid again");
            }
            return new Lookup(rules, null);
        } catch (InvalidReplicationConfigurationException e) {
            if (!e.getMessage().equals(reportedProblems.put(bucket, e.getMessage()))) {
                LOG.error("bucket '{}' not replicated: its replication configuration is invalid: {}", bucket, e.getMessage());
            }
            return new Lookup(null, e.getMessage());
        }
    }

    /** The bucket's valid rules, or null when it has none (or none that can be used). */
    public ReplicationConfiguration of(String bucket) {
        return lookup(bucket).rules();
    }
}
