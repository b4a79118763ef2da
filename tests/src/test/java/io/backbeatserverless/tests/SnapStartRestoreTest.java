package io.backbeatserverless.tests;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.backbeatserverless.adapters.snapstart.SnapStartHooks;
import io.backbeatserverless.replicator.BatchReplicator;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 33: a replicator's SnapStart hooks called as Lambda calls them, on the replicator Lambda builds (its
 * configuration from the environment, the stack's Kafka and servers): priming before the snapshot sends nothing and
 * changes nothing, and after the restore the replicator is built again, its snapshot's Kafka producer closed (an
 * idempotent producer's id, shared by every environment resumed from one snapshot, would make their sequence numbers
 * collide) and its clients with it, while the new one serves batches.
 */
class SnapStartRestoreTest extends StackScenario {

    @Test
    void aRestoreBuildsTheReplicatorAgainAndClosesTheSnapshotsProducerAndClients() throws Exception {
        Map<String, String> environment = Map.of("BACKBEAT_CONFIG_JSON", SharedStack.stack().config().toJson(),
                "BACKBEAT_SITE", SharedStack.AWS_LOCATION);
        SnapStartHooks<BatchReplicator> hooks = SnapStartHooks.register(() -> BatchReplicator.fromEnvironment(environment), replicator -> { });
        BatchReplicator atInit = hooks.current();
        KafkaEvent none = new KafkaEvent();
        none.setRecords(Map.of());
        assertThat(atInit.replicate(none, null).completed()).isZero();

        hooks.beforeCheckpoint(null);
        assertThat(hooks.current()).as("priming builds nothing").isSameAs(atInit);
        hooks.afterRestore(null);

        BatchReplicator restored = hooks.current();
        assertThat(restored).isNotSameAs(atInit);
        // A record it cannot read is passed on as a failed entry (a send): the snapshot's producer refuses it, closed.
        KafkaEvent unreadable = new KafkaEvent();
        unreadable.setRecords(Map.of("backbeat-replication-0", java.util.List.of(KafkaEvent.KafkaEventRecord.builder()
                .withTopic("backbeat-replication").withPartition(0).withOffset(0)
                .withValue(java.util.Base64.getEncoder().encodeToString("not an entry".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .build())));
        assertThatThrownBy(() -> atInit.replicate(unreadable, null)).as("the snapshot's producer is closed")
                .hasStackTraceContaining("after producer has been closed");
        assertThat(restored.replicate(none, null).completed()).as("the restored replicator serves batches").isZero();
        restored.close();
    }
}
