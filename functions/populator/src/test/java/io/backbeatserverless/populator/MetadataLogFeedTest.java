package io.backbeatserverless.populator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.backbeatserverless.core.ops.CheckpointStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The record log recorded from a real CloudServer (shared/reference/cloudserver-record-log.json), served
 * as CloudServer's {@code POST /MDFile/recordLog} and as bucketd's raft log by a test HTTP server: the
 * feeds must yield exactly the versions Backbeat would queue, in order, and none of the skipped kinds.
 */
class MetadataLogFeedTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Sequence numbers to queue, from shared/reference/README.md. */
    private static final List<Long> EXPECTED = List.of(17L, 19L, 21L, 22L, 25L, 27L, 34L, 39L, 43L);
    private static HttpServer server;
    private static ArrayNode log;

    @BeforeAll
    static void serveTheRecordedLog() throws Exception {
        try (InputStream in = MetadataLogFeedTest.class.getResourceAsStream("/cloudserver-record-log.json")) {
            log = (ArrayNode) MAPPER.readTree(in).path("result").path("log");
        }
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/MDFile/recordLog", exchange -> {
            JsonNode call = MAPPER.readTree(exchange.getRequestBody());
            JsonNode rpc = call.path("args").path("rpcArgs").get(0);
            ObjectNode result = MAPPER.createObjectNode();
            ObjectNode answer = result.putObject("result");
            answer.putObject("info").put("start", 1).put("end", log.size());
            answer.set("log", slice(rpc.path("startSeq").asInt(), rpc.path("limit").asInt()));
            reply(exchange, result);
        });
        server.createContext("/_/raft_sessions/1/log", exchange -> {
            Map<String, String> q = new HashMap<>();
            for (String p : exchange.getRequestURI().getQuery().split("&")) {
                q.put(p.substring(0, p.indexOf('=')), p.substring(p.indexOf('=') + 1));
            }
            ObjectNode answer = MAPPER.createObjectNode();
            answer.putObject("info").put("start", 1).put("cseq", log.size()).put("prune", 0);
            answer.set("log", slice(Integer.parseInt(q.get("begin")), Integer.parseInt(q.get("limit"))));
            reply(exchange, answer);
        });
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    @Test
    void theCloudServerRecordLogYieldsExactlyTheExpectedVersionsInOrder() throws Exception {
        InMemoryCheckpoints checkpoints = new InMemoryCheckpoints();
        var feed = new CloudServerRecordLogFeed(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/MDFile/recordLog"),
                "s3-recordlog", checkpoints, 10);

        List<SourceVersion> versions = drain(feed);

        assertThat(versions).extracting(SourceVersion::sequence).containsExactlyElementsOf(EXPECTED);
        assertThat(versions).extracting(v -> v.bucket() + "/" + v.metadata().objectKey()).containsExactly(
                "srcbucket/obj1", "srcbucket/obj1", "srcbucket/tagged", "srcbucket/obj1", "srcbucket/empty",
                "srcbucket/dir/ünï cödé %+ key", "srcbucket/mpu.bin", "srcbucket/tagged", "prefixbucket/logs/a");
        assertThat(versions.get(3).metadata().replicationInfo().orElseThrow().isMetadataOnly()).as("22: a tag change").isTrue();
        assertThat(versions.get(7).metadata().isDeleteMarker()).as("39: the delete marker").isTrue();
        assertThat(versions.get(6).metadata().contentLength()).isEqualTo(11534336L);
        assertThat(versions).allSatisfy(v -> assertThat(v.metadata().replicationInfo().orElseThrow().sites()).containsExactly("aws-location"));
        assertThat(checkpoints.positions.get(feedName(feed))).isEqualTo(47L);
        assertThat(feed.head()).isEqualTo(47);
        assertThat(feed.skipped()).isEqualTo(47 - 9);

        // A restarted feed resumes after its checkpoint: nothing again.
        var restarted = new CloudServerRecordLogFeed(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/MDFile/recordLog"),
                "s3-recordlog", checkpoints, 10);
        assertThat(drain(restarted)).isEmpty();
    }

    /** A journal server that sends its headers and part of a body, then stops: the read gives up, it does not hang. */
    @Test
    void aJournalAnswerThatStopsHalfWayFailsTheReadInsteadOfHangingIt() throws Exception {
        HttpServer stalling = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        stalling.createContext("/MDFile/recordLog", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, 0);
            exchange.getResponseBody().write("{\"result\":{\"info\":{\"start\":1,\"end\":9},\"log\":[".getBytes(StandardCharsets.UTF_8));
            exchange.getResponseBody().flush();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        stalling.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        stalling.start();
        try {
            var feed = new CloudServerRecordLogFeed(URI.create("http://127.0.0.1:" + stalling.getAddress().getPort() + "/MDFile/recordLog"),
                    "s3-recordlog", new InMemoryCheckpoints(), 10);
            feed.bodyTimeout(java.time.Duration.ofMillis(500));
            long started = System.nanoTime();
            org.assertj.core.api.Assertions.assertThatThrownBy(feed::next).isInstanceOf(java.net.http.HttpTimeoutException.class)
                    .hasMessageContaining("no complete answer within");
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(java.time.Duration.ofSeconds(10));
        } finally {
            release.countDown();
            stalling.stop(0);
        }
    }

    @Test
    void theBucketdRaftLogYieldsTheSameVersions() throws Exception {
        var feed = new BucketdRaftLogFeed(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), 1, new InMemoryCheckpoints(), 7);
        assertThat(drain(feed)).extracting(SourceVersion::sequence).containsExactlyElementsOf(EXPECTED);
    }

    @Test
    void aCrashBeforeTheAcknowledgementReplaysTheBatchNeverSkipsIt() throws Exception {
        InMemoryCheckpoints checkpoints = new InMemoryCheckpoints();
        URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/MDFile/recordLog");
        var first = new CloudServerRecordLogFeed(url, "s3-recordlog", checkpoints, 20);
        first.acknowledge(first.next());          // records 1-20 in Kafka, checkpoint 20
        ChangeFeed.Batch lost = first.next();     // records 21-40 read, then the process dies before Kafka acked
        assertThat(lost.versions()).isNotEmpty();

        var second = new CloudServerRecordLogFeed(url, "s3-recordlog", checkpoints, 20);
        assertThat(drain(second)).extracting(SourceVersion::sequence).containsExactly(21L, 22L, 25L, 27L, 34L, 39L, 43L);
    }

    private static List<SourceVersion> drain(MetadataLogFeed feed) throws Exception {
        List<SourceVersion> all = new ArrayList<>();
        while (true) {
            ChangeFeed.Batch batch = feed.next();
            if (batch.position() == null) {
                return all;
            }
            all.addAll(batch.versions());
            feed.acknowledge(batch);
        }
    }

    private static String feedName(MetadataLogFeed feed) {
        return "cloudserver-record-log:127.0.0.1:" + server.getAddress().getPort() + ":s3-recordlog";
    }

    private static ArrayNode slice(int startSeq, int limit) {
        ArrayNode slice = MAPPER.createArrayNode();
        for (int seq = startSeq; seq < startSeq + limit && seq <= log.size(); seq++) {
            slice.add(log.get(seq - 1));
        }
        return slice;
    }

    private static void reply(com.sun.net.httpserver.HttpExchange exchange, JsonNode body) throws java.io.IOException {
        byte[] bytes = MAPPER.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    /** The checkpoint port in memory: this test is about the feed's logic, the DynamoDB adapter has its own test. */
    private static final class InMemoryCheckpoints implements CheckpointStore {
        final Map<String, Long> positions = new HashMap<>();

        @Override
        public OptionalLong load(String feed) {
            return positions.containsKey(feed) ? OptionalLong.of(positions.get(feed)) : OptionalLong.empty();
        }

        @Override
        public java.util.Optional<String> loadState(String feed) {
            return java.util.Optional.empty();
        }

        @Override
        public void saveState(String feed, String state) {
        }

        @Override
        public boolean save(String feed, long position) {
            if (positions.getOrDefault(feed, -1L) > position) {
                return false;
            }
            positions.put(feed, position);
            return true;
        }
    }
}
