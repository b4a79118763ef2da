package io.backbeatserverless.replicator;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;

/**
 * The replicator function of one destination site, triggered by its MSK event source mapping on
 * {@code backbeat-replication} (consumer group {@code backbeat-replication-<site>}). It returns only
 * once every outcome is on {@code backbeat-replication-status}; a throw makes the mapping retry the batch.
 */
public final class ReplicatorHandler implements RequestHandler<KafkaEvent, BatchReplicator.BatchResult> {

    /** Its runtime, built again after a SnapStart restore (issue 33): its clients and Kafka producer are the environment's own. */
    private final io.backbeatserverless.adapters.snapstart.SnapStartHooks<BatchReplicator> runtime;

    /** Lambda's constructor: configuration and site from the environment (BACKBEAT_CONFIG*, BACKBEAT_SITE). */
    public ReplicatorHandler() {
        this.runtime = io.backbeatserverless.adapters.snapstart.SnapStartHooks.register(
                () -> BatchReplicator.fromEnvironment(System.getenv()), replicator -> { });
    }

    public ReplicatorHandler(BatchReplicator replicator) {
        this.runtime = io.backbeatserverless.adapters.snapstart.SnapStartHooks.fixed(replicator);
    }

    @Override
    public BatchReplicator.BatchResult handleRequest(KafkaEvent event, Context context) {
        java.time.Instant stopAt = stopStartingAt(context, java.time.Instant.now());
        BatchReplicator replicator = runtime.current();
        // Powertools' logging: the invocation's fields (request id, cold start, ...) on every JSON line.
        return context == null ? replicator.replicate(event, stopAt)
                : software.amazon.lambda.powertools.logging.PowertoolsLogging.withLogging(context, () -> replicator.replicate(event, stopAt));
    }

    /**
     * When to stop starting work: the invocation's end less a margin to finish the parts in flight and publish the
     * outcomes and the deferred entries (a tenth of the time left, between 2 and 30 s). Null without a context.
     */
    static java.time.Instant stopStartingAt(Context context, java.time.Instant now) {
        if (context == null) {
            return null;
        }
        long remaining = context.getRemainingTimeInMillis();
        long margin = Math.clamp(remaining / 10, 2_000L, 30_000L);
        return now.plusMillis(Math.max(0, remaining - margin));
    }
}
