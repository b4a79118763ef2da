package io.backbeatserverless.ops;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.adapters.kafka.KafkaClientSecurity;
import io.backbeatserverless.adapters.kafka.KafkaEventRecords;
import io.backbeatserverless.adapters.kafka.TriggerFailureRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The batches an MSK trigger gave up on (after its retries: with an on-failure destination Lambda caps them, Lambda
 * Developer Guide, kafka-retry-configurations.html), which the stack keeps in its trigger failures bucket: listed, and
 * replayed onto their topics at an operator's word, so that their entries go through the normal path again (at least
 * once: an entry replayed twice changes nothing at a site). Each object's records come from its payload, or, when Lambda
 * could not send one, from the topic itself by the offsets it names (while the topic still holds them). An object whose
 * records are all published again is deleted; one that cannot be read stays, with its reason in the answer.
 */
public final class TriggerFailureReplay {

    private static final Logger LOG = LoggerFactory.getLogger(TriggerFailureReplay.class);

    private final S3Client s3;
    private final String bucket;
    private final EntryPublisher publisher;
    private final BackbeatConfig.KafkaSettings kafka;
    private final Set<String> topics;

    public TriggerFailureReplay(S3Client s3, String bucket, EntryPublisher publisher, BackbeatConfig.KafkaSettings kafka) {
        this.s3 = s3;
        this.bucket = bucket;
        this.publisher = publisher;
        this.kafka = kafka;
        this.topics = Set.of(kafka.replicationTopic(), kafka.statusTopic());
    }

    /** The failed batches kept, oldest first: {@code {"Batches":[{"Key","Size","LastModified","Condition","Function","Records","Ranges"}]}}. */
    public Map<String, Object> list() {
        List<Map<String, Object>> batches = new ArrayList<>();
        for (S3Object object : objects()) {
            Map<String, Object> batch = new LinkedHashMap<>();
            batch.put("Key", object.key());
            batch.put("Size", object.size());
            batch.put("LastModified", String.valueOf(object.lastModified()));
            try {
                TriggerFailureRecord failure = read(object.key());
                batch.put("Condition", failure.condition());
                batch.put("Function", failure.functionArn());
                batch.put("Records", failure.hasPayload() ? failure.records().size() : null);
                batch.put("Ranges", failure.ranges().stream().map(r -> r.topic() + "-" + r.partition() + "@" + r.first() + ".." + r.last()).toList());
            } catch (RuntimeException e) {
                batch.put("Error", e.getMessage());
            }
            batches.add(batch);
        }
        return Map.of("Bucket", bucket, "Batches", batches);
    }

    /** Publishes every kept batch's records again and deletes each object replayed: {@code {"Replayed","Records","Errors"}}. */
    public Map<String, Object> replayAll() {
        int replayed = 0;
        int records = 0;
        List<Map<String, String>> errors = new ArrayList<>();
        for (S3Object object : objects()) {
            try {
                records += replay(read(object.key()));
                s3.deleteObject(r -> r.bucket(bucket).key(object.key()));
                replayed++;
                LOG.info("trigger failures: batch {} replayed", object.key());
            } catch (RuntimeException e) {
                LOG.warn("trigger failures: batch {} not replayed: {}", object.key(), e.toString());
                errors.add(Map.of("Key", object.key(), "Error", e.getMessage() == null ? e.toString() : e.getMessage()));
            }
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("Replayed", replayed);
        answer.put("Records", records);
        answer.put("Errors", errors);
        return answer;
    }

    private int replay(TriggerFailureRecord failure) {
        List<ProducerRecord<String, byte[]>> again = new ArrayList<>();
        if (failure.hasPayload()) {
            for (KafkaEventRecords.Record record : failure.records()) {
                // Onto the partition it came from: a backfill page is there beside its keys' live entries, not where its key hashes.
                again.add(new ProducerRecord<>(ourTopic(record.topic()), record.partition(), record.key(), record.value()));
            }
        } else {
            for (TriggerFailureRecord.Range range : failure.ranges()) {
                again.addAll(fromTopic(range));
            }
        }
        publisher.publishAll(again);
        return again.size();
    }

    /** The range's records as the topic still holds them; fails when it no longer does (past the topic's retention). */
    private List<ProducerRecord<String, byte[]>> fromTopic(TriggerFailureRecord.Range range) {
        TopicPartition partition = new TopicPartition(ourTopic(range.topic()), range.partition());
        Map<String, Object> settings = new LinkedHashMap<>(KafkaClientSecurity.properties(kafka));
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.put(ConsumerConfig.CLIENT_ID_CONFIG, "backbeat-ops-replay");
        List<ProducerRecord<String, byte[]>> found = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            long earliest = consumer.beginningOffsets(List.of(partition)).get(partition);
            if (earliest > range.first()) {
                throw new IllegalStateException(partition + " no longer holds offsets " + range.first() + " to " + range.last()
                        + " (it starts at " + earliest + "): run verify --repair on the buckets concerned");
            }
            consumer.seek(partition, range.first());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            long next = range.first();
            while (next <= range.last() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.offset() <= range.last()) {
                        found.add(new ProducerRecord<>(partition.topic(), partition.partition(), record.key(), record.value()));
                    }
                    next = record.offset() + 1;
                }
            }
            if (next <= range.last()) {
                throw new IllegalStateException(partition + ": offsets " + next + " to " + range.last() + " could not be read within 30 s");
            }
        }
        return found;
    }

    /** Only the project's own topics are replayed onto: a record names its topic, and nothing else may be written. */
    private String ourTopic(String topic) {
        if (!topics.contains(topic)) {
            throw new IllegalArgumentException("the batch is of topic '" + topic + "', not one of " + topics);
        }
        return topic;
    }

    private TriggerFailureRecord read(String key) {
        return TriggerFailureRecord.parse(s3.getObjectAsBytes(r -> r.bucket(bucket).key(key)).asByteArray());
    }

    private List<S3Object> objects() {
        List<S3Object> objects = new ArrayList<>();
        s3.listObjectsV2Paginator(r -> r.bucket(bucket)).contents().forEach(objects::add);
        objects.sort(java.util.Comparator.comparing(S3Object::lastModified).thenComparing(S3Object::key));
        return objects;
    }
}
