package io.backbeatserverless.localstack;

import io.backbeatserverless.core.retry.RetryPolicy;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent.KafkaEventRecord;
import io.backbeatserverless.adapters.config.BackbeatConfig.EventSourceSettings;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Invokes a Lambda handler the way an MSK / self-managed Kafka event source mapping does, for local
 * runs: one consumer group per function; batches of at most {@code batchSize} records gathered for
 * at most {@code batchWindowMs}; a genuine {@link KafkaEvent} with records grouped by
 * {@code topic-partition} in offset order, keys and values base64; offsets committed only after the
 * handler returns; when it throws, the whole batch is fetched again and retried (with backoff, as
 * Lambda retries until the records expire). Disabling the mapping (pause) stops delivering records
 * without losing any: the committed offsets stay where the last successful batch left them.
 */
public final class EventSourceRunner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EventSourceRunner.class);
    private static final RetryPolicy RETRIES = RetryPolicy.forever(Duration.ofMillis(100), Duration.ofSeconds(5));

    private final String functionName;
    private final String topic;
    private final String groupId;
    private final EventSourceSettings settings;
    private final RequestHandler<KafkaEvent, ?> handler;
    private final String bootstrapServers;
    private final List<Poller> pollers = new ArrayList<>();
    private final AtomicLong invocations = new AtomicLong();
    private final AtomicLong failedInvocations = new AtomicLong();
    private volatile boolean running = true;
    private volatile boolean enabled = true;

    public EventSourceRunner(String functionName, String bootstrapServers, String topic, String groupId,
                             EventSourceSettings settings, RequestHandler<KafkaEvent, ?> handler) {
        this.functionName = functionName;
        this.topic = topic;
        this.groupId = groupId;
        this.settings = settings;
        this.handler = handler;
        this.bootstrapServers = bootstrapServers;
        // Lambda runs at most one invocation per partition at a time, partitions concurrently (issue 31): a member of the
        // group per invocation that may run at once, each with its share of the partitions and one invocation at a time.
        for (int i = 0; i < settings.concurrency(); i++) {
            pollers.add(new Poller(settings.concurrency() == 1 ? functionName : functionName + "-" + (i + 1)));
        }
    }

    public EventSourceRunner start() {
        pollers.forEach(p -> p.thread.start());
        return this;
    }

    public String groupId() {
        return groupId;
    }

    public String functionName() {
        return functionName;
    }

    /** Like UpdateEventSourceMapping Enabled=false/true: stops or restarts delivering records. */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public boolean isEnabled() {
        return enabled;
    }

    public long invocations() {
        return invocations.get();
    }

    public long failedInvocations() {
        return failedInvocations.get();
    }

    /**
     * Each member's partitions, as the group last assigned them (a member that joins later gets its share at the next
     * rebalance, which waits for the invocations under way: until then a member may hold more than its share).
     */
    public Map<String, java.util.Set<TopicPartition>> assignments() {
        Map<String, java.util.Set<TopicPartition>> assignments = new LinkedHashMap<>();
        pollers.forEach(p -> assignments.put(p.memberId, java.util.Set.copyOf(p.assigned)));
        return assignments;
    }

    /** One member of the group: its consumer, on a thread of its own, invokes the handler with one batch at a time. */
    private final class Poller {
        private final String memberId;
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final Thread thread;
        private final java.util.Set<TopicPartition> assigned = java.util.concurrent.ConcurrentHashMap.newKeySet();

        Poller(String memberId) {
            this.memberId = memberId;
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, memberId);
            // Static membership: a function started again after a crash (FunctionProcess) takes its partitions back at once,
            // as Lambda's pollers outlive a function instance, instead of waiting out the dead member's session (45 s).
            p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, memberId);
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            // MSK mappings start at TRIM_HORIZON for a new group: nothing published before is skipped.
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, settings.batchSize());
            p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 900_000);
            this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            this.thread = Thread.ofPlatform().name("event-source-" + memberId).unstarted(this::run);
        }

        private void run() {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
                    assigned.removeAll(partitions);
                    if (!partitions.isEmpty()) {
                        LOG.info("{}: partitions revoked {}", memberId, partitions);
                    }
                }

                @Override
                public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {
                    assigned.addAll(partitions);
                    if (!partitions.isEmpty()) {
                        LOG.info("{}: partitions assigned {}{}", memberId, partitions, enabled ? "" : " (disabled: paused)");
                    }
                    if (!enabled) {
                        // Partitions handed over by a rebalance come unpaused: a disabled mapping must not fetch them.
                        consumer.pause(partitions);
                    }
                }
            });
            // Lambda's event source mapping retries a failed batch until it succeeds: so does this, with the one policy's backoff.
            RetryPolicy.Backoff backoff = RETRIES.backoff(java.time.Clock.systemUTC());
            try {
                while (running) {
                    if (!enabled) {
                        // Keep the group membership alive but deliver nothing. A rebalance during this poll hands over
                        // partitions that are not paused yet, and the poll may return their records: put them back, or the
                        // position moves past records never delivered and the next commit after the resume skips them.
                        consumer.pause(consumer.assignment());
                        rewind(consumer.poll(Duration.ofMillis(100)));
                        continue;
                    }
                    consumer.resume(consumer.paused());
                    List<ConsumerRecord<byte[], byte[]>> batch = nextBatch();
                    if (batch.isEmpty() || !enabled) {
                        rewind(batch);
                        continue;
                    }
                    KafkaEvent event = toKafkaEvent(batch);
                    invocations.incrementAndGet();
                    try {
                        handler.handleRequest(event, new LocalLambdaContext(functionName, Duration.ofSeconds(settings.functionTimeoutSeconds())));
                        consumer.commitSync(nextOffsets(batch));
                        backoff.reset();
                    } catch (RuntimeException e) {
                        failedInvocations.incrementAndGet();
                        Duration wait = backoff.next();
                        LOG.warn("{}: invocation with {} records failed, the batch will be retried in {} ms: {}",
                                memberId, batch.size(), wait.toMillis(), e.toString());
                        rewind(batch);
                        sleep(wait);
                    }
                }
            } catch (WakeupException e) {
                if (running) {
                    throw e;
                }
            } catch (RuntimeException e) {
                LOG.error("{}: event source stopped on an unexpected error", memberId, e);
            } finally {
                consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
            }
        }

        private List<ConsumerRecord<byte[], byte[]>> nextBatch() {
            List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>();
            long windowEnd = -1;
            while (running && enabled && batch.size() < settings.batchSize()) {
                long waitMs = windowEnd < 0 ? 200 : Math.max(0, windowEnd - System.currentTimeMillis());
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(waitMs));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    batch.add(r);
                }
                if (batch.isEmpty()) {
                    return batch;
                }
                if (windowEnd < 0) {
                    windowEnd = System.currentTimeMillis() + settings.batchWindowMs();
                }
                if (System.currentTimeMillis() >= windowEnd) {
                    break;
                }
                if (batch.size() >= settings.batchSize()) {
                    break;
                }
            }
            if (batch.size() > settings.batchSize()) {
                rewind(batch.subList(settings.batchSize(), batch.size()));
                return new ArrayList<>(batch.subList(0, settings.batchSize()));
            }
            return batch;
        }

        /**
         * Seeks every partition of {@code records} back to its first record, so they are delivered again. A partition this
         * consumer no longer holds (a rebalance gave it to another member) is left alone: its new owner starts from the
         * committed offset, which never passed these records.
         */
        private void rewind(Iterable<ConsumerRecord<byte[], byte[]>> records) {
            Map<TopicPartition, Long> first = new LinkedHashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
            }
            java.util.Set<TopicPartition> held = consumer.assignment();
            first.forEach((partition, offset) -> {
                if (held.contains(partition)) {
                    consumer.seek(partition, offset);
                }
            });
        }

    }

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(List<ConsumerRecord<byte[], byte[]>> batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            offsets.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        return offsets;
    }

    KafkaEvent toKafkaEvent(List<ConsumerRecord<byte[], byte[]>> batch) {
        Map<String, List<KafkaEventRecord>> grouped = new LinkedHashMap<>();
        Base64.Encoder base64 = Base64.getEncoder();
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            List<Map<String, byte[]>> headers = new ArrayList<>();
            for (Header h : r.headers()) {
                headers.add(Map.of(h.key(), h.value()));
            }
            grouped.computeIfAbsent(r.topic() + "-" + r.partition(), k -> new ArrayList<>()).add(KafkaEventRecord.builder()
                    .withTopic(r.topic())
                    .withPartition(r.partition())
                    .withOffset(r.offset())
                    .withTimestamp(r.timestamp())
                    .withTimestampType(r.timestampType().name())
                    .withKey(r.key() == null ? null : base64.encodeToString(r.key()))
                    .withValue(r.value() == null ? null : base64.encodeToString(r.value()))
                    .withHeaders(headers)
                    .build());
        }
        grouped.values().forEach(list -> list.sort(java.util.Comparator.comparingLong(KafkaEventRecord::getOffset)));
        KafkaEvent event = new KafkaEvent();
        event.setEventSource("SelfManagedKafka");
        event.setBootstrapServers(bootstrapServers);
        event.setRecords(grouped);
        return event;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        pollers.forEach(p -> p.consumer.wakeup());
        for (Poller p : pollers) {
            try {
                p.thread.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
