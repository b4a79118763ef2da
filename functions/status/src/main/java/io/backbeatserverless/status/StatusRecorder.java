package io.backbeatserverless.status;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.kafka.KafkaEventRecords;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.MalformedEntryException;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.ReplicationStatusStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * Records the outcomes of a status batch in order: each site's status under the merge rules (a
 * COMPLETED site stays COMPLETED, so a late FAILED from a replayed batch cannot undo it). A store
 * error throws, so the event source retries the whole batch; recording is idempotent.
 */
public final class StatusRecorder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StatusRecorder.class);

    private final ReplicationStatusStore store;
    private final AutoCloseable resources;

    public StatusRecorder(ReplicationStatusStore store, AutoCloseable resources) {
        this.store = store;
        this.resources = resources;
    }

    public static StatusRecorder fromEnvironment(Map<String, String> env) {
        return create(BackbeatConfig.fromEnvironment(env), Clock.systemUTC());
    }

    public static StatusRecorder create(BackbeatConfig config, Clock clock) {
        var dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint());
        return new StatusRecorder(new DynamoDbReplicationStatusStore(dynamo, config.dynamodb().tables().status(), clock),
                dynamo::close);
    }

    public BatchResult record(KafkaEvent event) {
        int recorded = 0;
        int unchanged = 0;
        int malformed = 0;
        for (List<KafkaEventRecords.Record> partition : KafkaEventRecords.byPartition(event)) {
            for (KafkaEventRecords.Record record : partition) {
                StatusEntry entry;
                try {
                    entry = EntryCodec.decodeStatusEntry(record.value());
                } catch (MalformedEntryException e) {
                    malformed++;
                    LOG.error("malformed status entry at {} skipped: {}", record.position(), e.getMessage());
                    continue;
                }
                ReplicationStatus now = store.recordOutcome(entry);
                if (now == entry.status()) {
                    recorded++;
                } else {
                    unchanged++;
                    LOG.info("{}/{} version {} at {}: {} ignored, the site is already {}", entry.bucket(),
                            entry.versionKey().objectKey(), entry.versionKey().versionId(), entry.site(), entry.status(), now);
                }
            }
        }
        return new BatchResult(recorded, unchanged, malformed);
    }

    @Override
    public void close() throws Exception {
        resources.close();
    }

    /** Outcomes recorded, outcomes that changed nothing (site already COMPLETED), undecodable entries. */
    public record BatchResult(int recorded, int unchanged, int malformed) {
    }
}
