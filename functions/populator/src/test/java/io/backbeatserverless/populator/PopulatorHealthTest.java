package io.backbeatserverless.populator;

import io.backbeatserverless.adapters.kafka.EntryPublisher;

import io.backbeatserverless.core.ops.MetricsStore;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;



import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A populator whose every batch fails keeps its thread alive, which used to be all liveness asked: now liveness
 * fails once no batch has gone through for the stall threshold, readiness as soon as a batch fails, and the
 * metrics say how long and how many times.
 */
class PopulatorHealthTest {

    @Test
    void aPopulatorThatNeverGetsABatchThroughIsReportedStalled() throws Exception {
        AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-28T10:00:00Z"));
        Clock clock = new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneId.of("UTC");
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
        ChangeFeed broken = new ChangeFeed() {
            @Override
            public Batch next() throws Exception {
                throw new java.io.IOException("journal unreachable");
            }

            @Override
            public void acknowledge(Batch batch) {
            }

            @Override
            public String name() {
                return "broken";
            }
        };
        Populator populator = new Populator(broken, new EntryPublisher(new MockProducer<>(true, null, new StringSerializer(),
                new ByteArraySerializer())), "backbeat-replication", List.of("aws-location"), Duration.ofMillis(10), MetricsStore.NONE, clock);
        Thread thread = Thread.ofPlatform().daemon().start(populator);
        PopulatorMain.Running running = new PopulatorMain.Running(populator, thread, () -> {
        });
        try (PopulatorHealthServer health = new PopulatorHealthServer("127.0.0.1", 0, running, Duration.ofMinutes(5))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> populator.failuresInARow() >= 1);
            assertThat(get(health, "/_/health/readiness").statusCode()).isEqualTo(503);
            assertThat(get(health, "/_/health/liveness").statusCode()).as("failing, not yet stalled").isEqualTo(200);

            now.set(now.get().plus(Duration.ofMinutes(6)));

            HttpResponse<String> liveness = get(health, "/_/health/liveness");
            assertThat(liveness.statusCode()).isEqualTo(503);
            assertThat(liveness.body()).contains("no batch went through since 2026-11-28T10:00:00Z", "journal unreachable");
            assertThat(get(health, "/metrics").body()).contains("backbeat_populator_seconds_since_last_batch 360");
            assertThat(health.cloudWatchMetrics()).contains("\"PopulatorSecondsSinceLastBatch\":360", "\"Feed\":\"broken\"");
        } finally {
            populator.close();
            thread.interrupt();
        }
    }

    private static HttpResponse<String> get(PopulatorHealthServer health, String path) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + health.port() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }
}
