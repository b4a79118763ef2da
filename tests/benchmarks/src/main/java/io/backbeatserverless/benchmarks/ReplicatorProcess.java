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
 * file, invokes it once with a KafkaEvent holding the given entries, and prints {@value #HANDLER_RETURNED}
 * as soon as the handler returns (a parent timing the process stops its clock there), then one line:
 * {@code RESULT <batch result> seconds=<s> peakHeapMiB=<sum of the heap pools' peaks> startToDoneMs=<from JVM start>
 * handlerStartUptimeMs=<JVM uptime when the handler is invoked> handlerEndUptimeMs=<when it returns>}; the first
 * uptime is Lambda's init (JVM start, configuration, clients), the difference its first invocation.
 * Usage: ReplicatorProcess <config.json> <site> <entry-file>...
 */
public final class ReplicatorProcess {

    static final String HANDLER_RETURNED = "HANDLER_RETURNED";
    /**
     * System property: run as SnapStart would (issue 33): the runtime built and primed (beforeCheckpoint) up to the
     * snapshot point, then restored (afterRestore) and invoked; handlerStartUptimeMs is then the snapshot point (init with
     * priming), and the handler's time runs from the restore to its return.
     */
    static final String PRIMED = "backbeat.primed";

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
        long handlerStartMillis;
        long handlerEndMillis;
        if (Boolean.getBoolean(PRIMED)) {
            var hooks = io.backbeatserverless.adapters.snapstart.SnapStartHooks.register(
                    () -> BatchReplicator.create(config, site, Clock.systemUTC()), replicator -> { });
            hooks.beforeCheckpoint(null);
            handlerStartMillis = System.currentTimeMillis();
            long started = System.nanoTime();
            hooks.afterRestore(null);
            result = new ReplicatorHandler(hooks.current()).handleRequest(event, null);
            seconds = (System.nanoTime() - started) / 1e9;
            handlerEndMillis = System.currentTimeMillis();
            System.out.println(HANDLER_RETURNED);
            hooks.current().close();
        } else {
            try (BatchReplicator replicator = BatchReplicator.create(config, site, Clock.systemUTC())) {
                ReplicatorHandler handler = new ReplicatorHandler(replicator);
                handlerStartMillis = System.currentTimeMillis();
                long started = System.nanoTime();
                result = handler.handleRequest(event, null);
                seconds = (System.nanoTime() - started) / 1e9;
                handlerEndMillis = System.currentTimeMillis();
                System.out.println(HANDLER_RETURNED);
            }
        }
        // The management beans load only now, after the timed part: they bring classes of their own to load.
        long peakHeap = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
                .mapToLong(p -> p.getPeakUsage().getUsed()).sum();
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        System.out.printf("RESULT %s seconds=%.3f peakHeapMiB=%d startToDoneMs=%d handlerStartUptimeMs=%d handlerEndUptimeMs=%d%n",
                result, seconds, peakHeap >> 20, System.currentTimeMillis() - jvmStart, handlerStartMillis - jvmStart,
                handlerEndMillis - jvmStart);
        System.exit(0);
    }

    /** One {@code name=value} of the RESULT line. */
    static String resultValue(String resultLine, String name) {
        for (String token : resultLine.split(" ")) {
            if (token.startsWith(name + "=")) {
                return token.substring(name.length() + 1);
            }
        }
        throw new IllegalStateException(name + " missing in " + resultLine);
    }
}
