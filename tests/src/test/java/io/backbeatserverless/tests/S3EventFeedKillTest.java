package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The S3-events feed on a real SQS server (ElasticMQ, in this JVM) with the populator as its own
 * process, as in a container: 1,000 S3 event messages, the populator killed with SIGKILL part-way
 * and started again; every one of the 1,000 versions reaches Kafka (duplicates allowed, gaps never)
 * and the queue ends empty.
 */
class S3EventFeedKillTest extends StackScenario {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int MESSAGES = 1000;
    private static SQSRestServer elasticMq;
    private static SqsClient sqs;
    private static URI sqsEndpoint;

    @BeforeAll
    static void start() {
        elasticMq = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
        int port = elasticMq.waitUntilStarted().localAddress().getPort();
        sqsEndpoint = URI.create("http://127.0.0.1:" + port);
        sqs = SqsClient.builder().endpointOverride(sqsEndpoint).region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(AwsClients.credentials(stack.config.source().endpoint()))
                .httpClientBuilder(software.amazon.awssdk.http.apache.ApacheHttpClient.builder()).build();
    }

    @AfterAll
    static void stop() {
        sqs.close();
        elasticMq.stopAndWait();
    }

    @Test
    void noEventIsLostWhenThePopulatorIsKilledMidway() throws Exception {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        String queueUrl = sqs.createQueue(r -> r.queueName("s3-events-" + UUID.randomUUID().toString().substring(0, 8))
                .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "3"))).queueUrl();
        for (int i = 0; i < MESSAGES; i += 10) {
            List<SendMessageBatchRequestEntry> batch = new ArrayList<>();
            for (int j = i; j < i + 10; j++) {
                batch.add(SendMessageBatchRequestEntry.builder().id("m" + j).messageBody(s3Event(bucket, "obj " + j, "v" + j)).build());
            }
            sqs.sendMessageBatch(r -> r.queueUrl(queueUrl).entries(batch));
        }
        String topic = "s3-events-" + UUID.randomUUID().toString().substring(0, 8);
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", stack.config.kafka().bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        }
        BackbeatConfig config = stack.config
                .withKafka(new BackbeatConfig.KafkaSettings(stack.config.kafka().bootstrapServers(), topic, "unused-status", 4))
                .withSource(new BackbeatConfig.SourceConfig(null, stack.config.source().endpoint(),
                        new BackbeatConfig.FeedSettings(BackbeatConfig.FeedSettings.S3_EVENTS_SQS, 100, queueUrl, null, null, 50)));

        Set<String> seen = new HashSet<>();
        List<String> all = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                stack.config.kafka().bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "check-" + topic,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            Process first = startPopulator(config);
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
                    drain(consumer, seen, all);
                    return seen.size() >= 300;
                });
            } finally {
                first.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no goodbye
            }
            int beforeRestart = seen.size();
            assertThat(beforeRestart).isLessThan(MESSAGES);

            Process second = startPopulator(config);
            try {
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
                    drain(consumer, seen, all);
                    return seen.size() == MESSAGES && queueIsEmpty(queueUrl);
                });
            } finally {
                second.destroy();
                second.waitFor();
            }
            System.out.printf("s3 events feed: %d distinct versions in Kafka (%d entries, %d duplicates); %d before the SIGKILL%n",
                    seen.size(), all.size(), all.size() - seen.size(), beforeRestart);
        }
        assertThat(seen).hasSize(MESSAGES).contains(bucket + "/obj 0\u0000v0", bucket + "/obj 999\u0000v999");
    }

    private static void drain(KafkaConsumer<String, byte[]> consumer, Set<String> seen, List<String> all) {
        consumer.poll(Duration.ofMillis(100)).forEach(r -> {
            ReplicationEntry e = EntryCodec.decodeReplicationEntry(r.value());
            String id = e.bucket() + "/" + e.versionKey().encoded();
            seen.add(id);
            all.add(id);
        });
    }

    private static boolean queueIsEmpty(String queueUrl) {
        Map<QueueAttributeName, String> a = sqs.getQueueAttributes(r -> r.queueUrl(queueUrl)
                .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
                .attributes();
        return "0".equals(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                && "0".equals(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
    }

    private static Process startPopulator(BackbeatConfig config) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.backbeatserverless.populator.PopulatorMain")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("BACKBEAT_CONFIG_JSON", config.toJson());
        builder.environment().put("BACKBEAT_POPULATOR_HEALTH_PORT", "0");
        return builder.start();
    }

    private static String s3Event(String bucket, String key, String versionId) throws Exception {
        Map<String, Object> object = Map.of("key", java.net.URLEncoder.encode(key, java.nio.charset.StandardCharsets.UTF_8),
                "size", 12, "eTag", "8a8933dab8deebe52e30886da1ef6ee2", "versionId", versionId,
                "sequencer", String.format("%016X", Instant.now().toEpochMilli()));
        Map<String, Object> record = Map.of("eventVersion", "2.1", "eventSource", "aws:s3", "awsRegion", "us-east-1",
                "eventTime", Instant.now().toString(), "eventName", "ObjectCreated:Put",
                "s3", Map.of("s3SchemaVersion", "1.0", "bucket", Map.of("name", bucket, "arn", "arn:aws:s3:::" + bucket), "object", object));
        return MAPPER.writeValueAsString(Map.of("Records", List.of(record)));
    }
}
