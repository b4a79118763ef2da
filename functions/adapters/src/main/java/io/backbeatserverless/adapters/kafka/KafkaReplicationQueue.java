package io.backbeatserverless.adapters.kafka;

import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.ops.Requeue;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.util.List;

/** The replication topic as a {@link Requeue.ReplicationQueue}: each entry keyed by its object, so it joins its versions' partition. */
public record KafkaReplicationQueue(EntryPublisher publisher, String topic) implements Requeue.ReplicationQueue {

    @Override
    public void publish(List<ReplicationEntry> entries) {
        publisher.publishAll(entries.stream()
                .map(e -> new ProducerRecord<String, byte[]>(topic, e.messageKey(), EntryCodec.encode(e))).toList());
    }
}
