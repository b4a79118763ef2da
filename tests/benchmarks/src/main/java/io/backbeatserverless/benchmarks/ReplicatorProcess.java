package io.backbeatserverless.benchmarks;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.replicator.BatchReplicator;
import io.backbeatserverless.replicator.ReplicatorHandler;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The replicator handler alone in its own JVM, as in Lambda: builds the handler from a configuration
 * file, invokes it once with a KafkaEvent holding the given entries, and prints one line:
 * {@code RESULT <batch result> seconds=<s> peakHeapMiB=<sum of the heap pools' peaks> startToDoneMs=<from JVM start>}.
 * Usage: ReplicatorProcess <config.json> <site> <entry-file>...
 */
public final class ReplicatorProcess {

    private ReplicatorProcess() {
    }

    public static void main(String[] args) throws Exception {
        BackbeatConfig config = BackbeatConfig.load(Path.of(args[0]));
        String site = args[1];
        List<KafkaEvent.KafkaEventRecord> records = new java.util.ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            byte[] value = Files.readAllBytes(Path.of(args[i]));
            records.add(KafkaEvent.KafkaEventRecord.builder().withTopic(config.kafka().replicationTopic()).withPartition(0)
                    .withOffset(i - 2).withTimestamp(System.currentTimeMillis()).withTimestampType("CREATE_TIME")
                    .withKey(Base64.getEncoder().encodeToString(("entry-" + i).getBytes(StandardCharsets.UTF_8)))
                    .withValue(Base64.getEncoder().encodeToString(value)).build());
        }
        KafkaEvent event = new KafkaEvent();
        event.setEventSource("aws:kafka");
        event.setRecords(Map.of(config.kafka().replicationTopic() + "-0", records));

        BatchReplicator.BatchResult result;
        double seconds;
        try (BatchReplicator replicator = BatchReplicator.create(config, site, Clock.systemUTC())) {
            ReplicatorHandler handler = new ReplicatorHandler(replicator);
            long started = System.nanoTime();
            result = handler.handleRequest(event, null);
            seconds = (System.nanoTime() - started) / 1e9;
        }
        long peakHeap = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
                .mapToLong(p -> p.getPeakUsage().getUsed()).sum();
        long sinceJvmStart = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
        System.out.printf("RESULT %s seconds=%.3f peakHeapMiB=%d startToDoneMs=%d%n", result, seconds, peakHeap >> 20, sinceJvmStart);
        System.exit(0);
    }
}
