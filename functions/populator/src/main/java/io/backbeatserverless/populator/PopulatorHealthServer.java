package io.backbeatserverless.populator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The populator container's health and metrics (ECS health check, Prometheus scrape):
 * {@code /_/health/liveness} (the loop runs), {@code /_/health/readiness} (and its last poll succeeded),
 * {@code /metrics} (entries published and skipped; for journal feeds the read position, the log head and the lag).
 */
public final class PopulatorHealthServer implements AutoCloseable {

    private final HttpServer server;
    private final PopulatorMain.Running running;

    public PopulatorHealthServer(String host, int port, PopulatorMain.Running running) throws IOException {
        this.running = running;
        this.server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.createContext("/_/health/liveness", e -> reply(e, running.thread().isAlive() ? 200 : 503, "text/plain",
                running.thread().isAlive() ? "alive\n" : "populator loop stopped\n"));
        server.createContext("/_/health/readiness", e -> {
            boolean ready = running.thread().isAlive() && running.populator().lastPollSucceeded();
            reply(e, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "last poll failed: " + running.populator().lastError() + "\n");
        });
        server.createContext("/metrics", e -> reply(e, 200, "text/plain; version=0.0.4", metrics()));
        server.start();
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
        server.stop(0);
    }
}
