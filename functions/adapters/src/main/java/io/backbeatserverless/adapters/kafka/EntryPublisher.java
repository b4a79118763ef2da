package io.backbeatserverless.adapters.kafka;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Publishes entries and returns only once Kafka acknowledged every one of them: the populator moves
 * its checkpoint, and a replicator returns its batch, only after that. Idempotent producer,
 * {@code acks=all}, so a retried send never duplicates or reorders within a partition.
 */
public final class EntryPublisher implements AutoCloseable {

    private final Producer<String, byte[]> producer;

    public EntryPublisher(Producer<String, byte[]> producer) {
        this.producer = producer;
    }

    public static EntryPublisher connect(String bootstrapServers, String clientId) {
        return new EntryPublisher(new KafkaProducer<>(producerProperties(bootstrapServers, clientId),
                new StringSerializer(), new ByteArraySerializer()));
    }

    /** A publisher with the deployment's connection settings (IAM authentication on MSK). */
    public static EntryPublisher connect(io.backbeatserverless.adapters.config.BackbeatConfig.KafkaSettings kafka, String clientId) {
        Properties p = producerProperties(kafka.bootstrapServers(), clientId);
        p.putAll(KafkaClientSecurity.properties(kafka));
        return new EntryPublisher(new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer()));
    }

    public static Properties producerProperties(String bootstrapServers, String clientId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        // publishAll sends whole batches (up to 1,000 entries of ~2 KiB): fewer, larger requests.
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        // No client metrics push (KIP-714): the deployment jars leave out the protobuf it serializes with.
        p.put(ProducerConfig.ENABLE_METRICS_PUSH_CONFIG, false);
        return p;
    }

    /** How many partitions {@code topic} has (from the producer's metadata, fetched once and kept up to date by it). */
    public int partitions(String topic) {
        return producer.partitionsFor(topic).size();
    }

    /**
     * The partition of a topic of {@code partitions} a record keyed {@code messageKey} goes to, as the producer's default
     * partitioner puts it (murmur2 of the key's bytes, modulo the partitions): where a backfill page must go to be ordered
     * with the live entries of its keys (a page and a live entry of one key on two partitions replicate at once).
     */
    public static int partitionFor(String messageKey, int partitions) {
        return org.apache.kafka.clients.producer.internals.BuiltInPartitioner.partitionForKey(
                messageKey.getBytes(java.nio.charset.StandardCharsets.UTF_8), partitions);
    }

    /** Sends every record and waits for all acknowledgements; throws if any was not acknowledged. */
    public List<RecordMetadata> publishAll(List<ProducerRecord<String, byte[]>> records) {
        List<Future<RecordMetadata>> pending = new ArrayList<>(records.size());
        for (ProducerRecord<String, byte[]> record : records) {
            pending.add(producer.send(record));
        }
        producer.flush();
        List<RecordMetadata> acks = new ArrayList<>(pending.size());
        for (Future<RecordMetadata> future : pending) {
            try {
                acks.add(future.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PublishFailedException("interrupted while waiting for Kafka to acknowledge", e);
            } catch (ExecutionException e) {
                throw new PublishFailedException("Kafka did not acknowledge an entry: " + e.getCause().getMessage(), e.getCause());
            }
        }
        return acks;
    }

    @Override
    public void close() {
        producer.close();
    }

    public static final class PublishFailedException extends RuntimeException {
        public PublishFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
