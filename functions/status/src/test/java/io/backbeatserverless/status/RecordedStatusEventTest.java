package io.backbeatserverless.status;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import io.backbeatserverless.adapters.kafka.KafkaEventRecords;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The status function's ready test event in {@code events/} stays readable by Lambda and by our codec. */
class RecordedStatusEventTest {

    @Test
    void theRecordedStatusBatchDecodesToACompletedOutcome() throws Exception {
        KafkaEvent event;
        try (InputStream in = Files.newInputStream(Path.of("../../events/status-kafka-batch.json"))) {
            event = LambdaEventSerializers.serializerFor(KafkaEvent.class, getClass().getClassLoader()).fromJson(in);
        }
        List<List<KafkaEventRecords.Record>> partitions = KafkaEventRecords.byPartition(event);

        assertThat(partitions).singleElement().satisfies(records -> assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.key()).isEqualTo("srcbucket%2Fobj1");
            StatusEntry status = EntryCodec.decodeStatusEntry(r.value());
            assertThat(status.site()).isEqualTo("aws-location");
            assertThat(status.status()).isEqualTo(ReplicationStatus.COMPLETED);
            assertThat(status.metadata().replicationInfo().orElseThrow().status()).isEqualTo(ReplicationStatus.COMPLETED);
        }));
    }
}
