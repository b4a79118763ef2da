package io.backbeatserverless.populator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The populator container's health and metrics (ECS health check, Prometheus scrape):
 * {@code /_/health/liveness} (the loop runs and a batch went through within the stall threshold),
 * {@code /_/health/readiness} (and its last poll succeeded),
 * {@code /metrics} (entries published and skipped; for journal feeds the read position, the log head and the lag).
 */
public final class PopulatorHealthServer implements AutoCloseable {

    private final HttpServer server;
    private final PopulatorMain.Running running;
    private final java.time.Duration stallAfter;
    private final java.util.concurrent.ScheduledExecutorService emitter = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("populator-metrics").unstarted(r));

    public PopulatorHealthServer(String host, int port, PopulatorMain.Running running, java.time.Duration stallAfter) throws IOException {
        this.running = running;
        this.stallAfter = stallAfter;
        this.server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.createContext("/_/health/liveness", e -> {
            // Alive means moving: a loop that runs but has not got a batch through for stallAfter (a hung read, a batch
            // that always fails) is reported dead, so the container is replaced and the stall seen.
            Populator p = running.populator();
            String problem = !running.thread().isAlive() ? "populator loop stopped"
                    : p.stalled(stallAfter) ? "no batch went through since " + p.lastSuccess() + " (" + p.failuresInARow()
                    + " failures in a row; last: " + p.lastError() + ")" : null;
            reply(e, problem == null ? 200 : 503, "text/plain", problem == null ? "alive\n" : problem + "\n");
        });
        server.createContext("/_/health/readiness", e -> {
            boolean ready = running.thread().isAlive() && running.populator().lastPollSucceeded();
            reply(e, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "last poll failed: " + running.populator().lastError() + "\n");
        });
        server.createContext("/metrics", e -> reply(e, 200, "text/plain; version=0.0.4", metrics()));
        server.start();
        emitter.scheduleAtFixedRate(() -> System.out.println(cloudWatchMetrics()), 60, 60, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * The populator's progress as one CloudWatch embedded-metric-format line (namespace {@code BackbeatServerless},
     * dimension {@code Feed}): written to standard output, which the container's log driver sends to CloudWatch Logs,
     * where the metrics are extracted; the CDK stack's stall alarm watches {@code PopulatorSecondsSinceLastBatch}.
     */
    String cloudWatchMetrics() {
        Populator p = running.populator();
        long sinceLastBatch = java.time.Duration.between(p.lastSuccess(), p.clock().instant()).toSeconds();
        long lag = p.feed() instanceof MetadataLogFeed log ? Math.max(0, log.head() - log.position()) : 0;
        return "{\"_aws\":{\"Timestamp\":" + p.clock().millis() + ",\"CloudWatchMetrics\":[{\"Namespace\":\"BackbeatServerless\","
                + "\"Dimensions\":[[\"Feed\"]],\"Metrics\":[{\"Name\":\"PopulatorSecondsSinceLastBatch\",\"Unit\":\"Seconds\"},"
                + "{\"Name\":\"PopulatorFailuresInARow\",\"Unit\":\"Count\"},{\"Name\":\"PopulatorLag\",\"Unit\":\"Count\"}]}]},"
                + "\"Feed\":\"" + p.feed().name() + "\",\"PopulatorSecondsSinceLastBatch\":" + sinceLastBatch
                + ",\"PopulatorFailuresInARow\":" + p.failuresInARow() + ",\"PopulatorLag\":" + lag + "}";
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private String metrics() {
        Populator p = running.populator();
        StringBuilder out = new StringBuilder();
        gauge(out, "backbeat_populator_entries_published_total", "counter", "Replication entries published", p.published());
        gauge(out, "backbeat_populator_entries_skipped_total", "counter", "Versions read but not replicable", p.skipped());
        gauge(out, "backbeat_populator_bytes_queued_total", "counter", "Bytes of the versions queued", p.bytesQueued());
        gauge(out, "backbeat_populator_seconds_since_last_batch", "gauge", "Seconds since a batch last went through",
                java.time.Duration.between(p.lastSuccess(), p.clock().instant()).toSeconds());
        gauge(out, "backbeat_populator_failures_in_a_row", "gauge", "Batches failed in a row", p.failuresInARow());
        if (p.feed() instanceof MetadataLogFeed log) {
            gauge(out, "backbeat_populator_log_position", "gauge", "Last journal sequence number checkpointed", log.position());
            gauge(out, "backbeat_populator_log_head", "gauge", "The journal's last sequence number", log.head());
            gauge(out, "backbeat_populator_log_lag", "gauge", "Journal records not yet read", Math.max(0, log.head() - log.position()));
            gauge(out, "backbeat_populator_records_read_total", "counter", "Journal records read", log.recordsRead());
            gauge(out, "backbeat_populator_records_skipped_total", "counter", "Journal entries skipped", log.skipped());
        }
        if (p.feed() instanceof S3EventNotificationFeed events) {
            gauge(out, "backbeat_populator_events_held_total", "counter",
                    "Event messages left in the queue because their bucket's replication configuration is invalid", events.held());
        }
        if (p.feed() instanceof ListingChangeFeed listing) {
            ListingChangeFeed.Cursor c = listing.cursor();
            gauge(out, "backbeat_populator_listing_pass", "gauge", "Listing pass number", c.pass());
            gauge(out, "backbeat_populator_listing_pass_scanned", "gauge", "Versions scanned in the current pass", c.scanned());
            gauge(out, "backbeat_populator_listing_pass_queued", "gauge", "Versions queued in the current pass", c.queued());
            gauge(out, "backbeat_populator_listing_bucket_scanned", "gauge", "Versions scanned in the current bucket", c.bucketScanned());
            gauge(out, "backbeat_populator_listing_bucket_total", "gauge", "Versions in the current bucket", Math.max(0, c.bucketTotal()));
        }
        return out.toString();
    }

    private static void gauge(StringBuilder out, String name, String type, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n')
                .append(name).append(' ').append(value).append('\n');
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @Override
    public void close() {
        emitter.shutdownNow();
        server.stop(0);
    }
}
