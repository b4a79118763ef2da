package io.backbeatserverless.core.rules;

import java.util.Map;
import java.util.Optional;

/**
 * The project's own store of replication configurations, for sources whose buckets must not hold one
 * (on AWS S3, {@code PutBucketReplication} would switch on AWS's own replication). Documents are the
 * AWS {@code ReplicationConfiguration} JSON, kept as given and checked by {@link ReplicationConfigurationParser}.
 */
public interface RuleStore {

    Optional<String> find(String bucket);

    void put(String bucket, String configurationJson);

    void delete(String bucket);

    /** Every bucket's configuration, by bucket. */
    Map<String, String> all();
}
