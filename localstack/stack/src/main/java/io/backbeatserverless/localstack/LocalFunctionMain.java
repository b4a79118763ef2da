package io.backbeatserverless.localstack;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.populator.PopulatorMain;
import io.backbeatserverless.replicator.BatchReplicator;
import io.backbeatserverless.replicator.ReplicatorHandler;
import io.backbeatserverless.status.StatusHandler;
import io.backbeatserverless.status.StatusRecorder;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * One function of the pipeline in a JVM of its own, as Lambda (or the populator's container) runs it: the
 * populator, the status processor, or the replicator of one site, each fed by the local event source. Started by
 * {@link FunctionProcess}: {@code <populator|status|replicator> <configuration file> [site]}. It prints
 * {@code READY} once running, obeys {@code enable} / {@code disable} on its standard input (a site paused or
 * resumed), and exits when its standard input closes. Killing it is a crash: nothing it did not finish is lost,
 * since its offsets and checkpoints are only saved after the work is done.
 */
public final class LocalFunctionMain {

    private LocalFunctionMain() {
    }

    /** The status processor's event source, in a process of its own or in the stack's. */
    static EventSourceRunner statusRunner(BackbeatConfig config, String bootstrapServers, StatusRecorder recorder) {
        return new EventSourceRunner("backbeat-status-processor", bootstrapServers, config.kafka().statusTopic(),
                "backbeat-replication-status-processor", config.eventSource(), new StatusHandler(recorder));
    }

    /** A site's replicator's event source, in a process of its own or in the stack's. */
    static EventSourceRunner replicatorRunner(BackbeatConfig config, String bootstrapServers, SiteConfig site, BatchReplicator replicator) {
        return new EventSourceRunner("backbeat-replicator-" + site.name(), bootstrapServers, config.kafka().replicationTopic(),
                site.consumerGroup(), config.eventSource(), new ReplicatorHandler(replicator));
    }

    public static void main(String[] args) throws Exception {
        String function = args[0];
        BackbeatConfig config = BackbeatConfig.load(Path.of(args[1]));
        Clock clock = Clock.systemUTC();
        Deque<AutoCloseable> started = new ArrayDeque<>();
        EventSourceRunner runner = null;
        switch (function) {
            case "populator" -> started.push(PopulatorMain.start(config, clock));
            case "status" -> {
                StatusRecorder recorder = StatusRecorder.create(config, clock);
                started.push(recorder);
                runner = statusRunner(config, config.kafka().bootstrapServers(), recorder).start();
            }
            case "replicator" -> {
                SiteConfig site = config.requireSite(args[2]);
                BatchReplicator replicator = BatchReplicator.create(config, site.name(), clock);
                started.push(replicator);
                runner = replicatorRunner(config, config.kafka().bootstrapServers(), site, replicator).start();
            }
            default -> throw new IllegalArgumentException("unknown function '" + function + "' (populator, status, replicator)");
        }
        if (runner != null) {
            started.push(runner);
        }
        serveUntilStdinCloses(function, runner, started);
    }

    /**
     * A function process's life once it runs: {@code READY} on standard output, {@code enable} / {@code disable} on standard
     * input passed to its trigger (a site paused or resumed), and, when standard input closes, everything it started
     * closed, newest first, and the process gone.
     */
    static void serveUntilStdinCloses(String name, EventSourceRunner runner, Deque<AutoCloseable> started) throws java.io.IOException {
        System.out.println("READY");
        System.out.flush();
        try (BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            for (String line = commands.readLine(); line != null; line = commands.readLine()) {
                if (runner != null && (line.equals("enable") || line.equals("disable"))) {
                    runner.setEnabled(line.equals("enable"));
                }
            }
        } finally {
            while (!started.isEmpty()) {
                try {
                    started.pop().close();
                } catch (Exception e) {
                    System.err.println("closing " + name + ": " + e);
                }
            }
        }
        System.exit(0);
    }
}
