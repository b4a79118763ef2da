package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.backbeatserverless.adapters.dynamodb.DynamoDbCheckpointStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.populator.CloudServerRecordLogFeed;
import io.backbeatserverless.populator.Populator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The populator on CloudServer's recorded record log (served by a test HTTP server as CloudServer's
 * {@code POST /MDFile/recordLog}), publishing to the stack's real Kafka with its checkpoint in the stack's
 * real DynamoDB: exactly Backbeat's entries, keyed and ordered, and a checkpoint that resumes.
 */
class RecordLogPopulatorTest extends StackScenario {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static HttpServer cloudServer;

    @BeforeAll
    static void start() throws Exception {
        ArrayNode log;
        try (InputStream in = RecordLogPopulatorTest.class.getResourceAsStream("/cloudserver-record-log.json")) {
            log = (ArrayNode) MAPPER.readTree(in).path("result").path("log");
        }
        cloudServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        cloudServer.createContext("/MDFile/recordLog", exchange -> {
            JsonNode rpc = MAPPER.readTree(exchange.getRequestBody()).path("args").path("rpcArgs").get(0);
            int start = rpc.path("startSeq").asInt();
            ObjectNode answer = MAPPER.createObjectNode();
            ObjectNode result = answer.putObject("result");
            result.putObject("info").put("start", 1).put("end", log.size());
            ArrayNode slice = result.putArray("log");
            for (int seq = start; seq < start + rpc.path("limit").asInt() && seq <= log.size(); seq++) {
                slice.add(log.get(seq - 1));
            }
            byte[] bytes = MAPPER.writeValueAsBytes(answer);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        cloudServer.start();
    }

    @AfterAll
    static void stop() {
        cloudServer.stop(0);
    }

    @Test
    void publishesExactlyBackbeatsEntriesInOrderAndResumesFromItsCheckpoint() throws Exception {
        String topic = "record-log-" + UUID.randomUUID().toString().substring(0, 8);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.config.kafka().bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
        URI url = URI.create("http://127.0.0.1:" + cloudServer.getAddress().getPort() + "/MDFile/recordLog");
        var checkpoints = new DynamoDbCheckpointStore(stack.dynamo, stack.config.dynamodb().tables().checkpoints(), Clock.systemUTC());
        var metrics = new DynamoDbMetricsStore(stack.dynamo, stack.config.dynamodb().tables().metrics());
        try (EntryPublisher publisher = EntryPublisher.connect(stack.config.kafka().bootstrapServers(), "record-log-test")) {
            Populator populator = new Populator(new CloudServerRecordLogFeed(url, "s3-recordlog", checkpoints, 10), publisher, topic,
                    List.of("aws-location"), Duration.ofMillis(10), metrics, Clock.systemUTC());
            while (populator.pollOnce().moved()) {
                // read the whole log, ten records at a time
            }
            assertThat(populator.published()).isEqualTo(9);

            List<ConsumerRecord<String, byte[]>> records = consume(topic, 9);
            assertThat(records).extracting(r -> EntryCodec.decodeReplicationEntry(r.value()))
                    .extracting(e -> e.bucket() + "/" + e.objectKey())
                    .containsExactly("srcbucket/obj1", "srcbucket/obj1", "srcbucket/tagged", "srcbucket/obj1", "srcbucket/empty",
                            "srcbucket/dir/ünï cödé %+ key", "srcbucket/mpu.bin", "srcbucket/tagged", "prefixbucket/logs/a");
            assertThat(records).allSatisfy(r -> {
                ReplicationEntry e = EntryCodec.decodeReplicationEntry(r.value());
                assertThat(r.key()).isEqualTo(e.messageKey());
                assertThat(e.type()).isEqualTo("put");
            });
            assertThat(records.get(5).key()).isEqualTo("srcbucket%2Fdir%2F%C3%BCn%C3%AF%20c%C3%B6d%C3%A9%20%25%2B%20key");
            assertThat(checkpoints.load("cloudserver-record-log:127.0.0.1:" + cloudServer.getAddress().getPort() + ":s3-recordlog"))
                    .hasValue(47);

            // A restarted populator starts after the checkpoint: nothing more is published.
            Populator restarted = new Populator(new CloudServerRecordLogFeed(url, "s3-recordlog", checkpoints, 10), publisher, topic,
                    List.of("aws-location"), Duration.ofMillis(10), metrics, Clock.systemUTC());
            assertThat(restarted.pollOnce().moved()).isFalse();
            assertThat(restarted.published()).isZero();
        }
    }

    @Test
    void aCheckpointNeverMovesBackwards() {
        var checkpoints = new DynamoDbCheckpointStore(stack.dynamo, stack.config.dynamodb().tables().checkpoints(), Clock.systemUTC());
        String feed = "test-feed-" + UUID.randomUUID();
        assertThat(checkpoints.load(feed)).isEmpty();
        assertThat(checkpoints.save(feed, 10)).isTrue();
        assertThat(checkpoints.save(feed, 12)).isTrue();
        assertThat(checkpoints.save(feed, 11)).as("an older writer").isFalse();
        assertThat(checkpoints.load(feed)).hasValue(12);
    }

    private static List<ConsumerRecord<String, byte[]>> consume(String topic, int expected) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                stack.config.kafka().bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "check-" + topic,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (records.size() < expected && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }
}
