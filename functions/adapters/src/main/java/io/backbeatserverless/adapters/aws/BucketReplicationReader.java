package io.backbeatserverless.adapters.aws;

import io.backbeatserverless.core.rules.InvalidReplicationConfigurationException;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser.RuleFields;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ReplicationRule;
import software.amazon.awssdk.services.s3.model.ReplicationRuleFilter;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.Tag;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a bucket's replication configuration from a source that stores it (CloudServer and most
 * S3-compatible servers) and hands the fields to the core parser, so the rules are checked in one place.
 */
public final class BucketReplicationReader {

    private final S3Client s3;

    public BucketReplicationReader(S3Client s3) {
        this.s3 = s3;
    }

    /**
     * The bucket's configuration, empty when it has none.
     *
     * @throws InvalidReplicationConfigurationException when it has one that cannot be used
     */
    public Optional<ReplicationConfiguration> read(String bucket) {
        software.amazon.awssdk.services.s3.model.ReplicationConfiguration raw;
        try {
            raw = s3.getBucketReplication(r -> r.bucket(bucket)).replicationConfiguration();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw e;
        }
        if (raw == null) {
            return Optional.empty();
        }
        List<RuleFields> rules = new ArrayList<>();
        for (ReplicationRule rule : raw.rules()) {
            ReplicationRuleFilter filter = rule.filter();
            boolean hasFilter = filter != null && (filter.prefix() != null || filter.tag() != null || filter.and() != null);
            String filterPrefix = "";
            Map<String, String> tags = new LinkedHashMap<>();
            if (hasFilter) {
                if (filter.prefix() != null) {
                    filterPrefix = filter.prefix();
                } else if (filter.tag() != null) {
                    tags.put(filter.tag().key(), filter.tag().value());
                } else {
                    filterPrefix = filter.and().prefix() == null ? "" : filter.and().prefix();
                    for (Tag tag : filter.and().tags()) {
                        tags.put(tag.key(), tag.value());
                    }
                }
            }
            String prefix = hasFilter ? null : (rule.prefix() == null ? "" : rule.prefix());
            rules.add(new RuleFields(rule.id(), rule.statusAsString(), rule.priority(), prefix, filterPrefix, tags,
                    hasFilter,
                    rule.deleteMarkerReplication() == null ? null : rule.deleteMarkerReplication().statusAsString(),
                    rule.destination() == null ? null : rule.destination().bucket(),
                    rule.destination() == null ? null : rule.destination().storageClassAsString()));
        }
        return Optional.of(ReplicationConfigurationParser.build(raw.role(), rules));
    }
}
