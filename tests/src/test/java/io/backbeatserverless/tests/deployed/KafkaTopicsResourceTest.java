package io.backbeatserverless.tests.deployed;

import com.amazonaws.services.lambda.runtime.events.CloudFormationCustomResourceEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.backbeatserverless.localstack.EmbeddedKafka;
import io.backbeatserverless.localstack.LocalLambdaContext;
import io.backbeatserverless.ops.KafkaTopicsResource;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.apache.ApacheHttpClient;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The topics' custom resource on MSK Serverless (issue 35: AWS::MSK::Topic does not exist there), as CloudFormation drives
 * it: its events in, its answers PUT to the pre-signed response URL (here a local server), against a real broker.
 */
class KafkaTopicsResourceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static EmbeddedKafka kafka;
    private static HttpServer cloudFormation;
    private static final BlockingQueue<JsonNode> answers = new LinkedBlockingQueue<>();

    @BeforeAll
    static void brokerAndResponseUrl() throws Exception {
        kafka = EmbeddedKafka.start("127.0.0.1", EmbeddedKafka.freePort());
        cloudFormation = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        cloudFormation.createContext("/", exchange -> {
            try (exchange) {
                answers.add(JSON.readTree(exchange.getRequestBody().readAllBytes()));
                exchange.sendResponseHeaders(200, -1);
            }
        });
        cloudFormation.start();
    }

    @AfterAll
    static void stop() {
        cloudFormation.stop(0);
        kafka.close();
    }

    @Test
    void createsTheTopicsRaisesTheirPartitionsNeverLowersThemAndKeepsThemOnDelete() throws Exception {
        String topic = "topics-resource-" + System.nanoTime();
        JsonNode created = invoke("Create", null, kafka.bootstrapServers(), topic, 3);
        assertThat(created.path("Status").asText()).as("%s", created).isEqualTo("SUCCESS");
        String physicalId = created.path("PhysicalResourceId").asText();
        assertThat(physicalId).isEqualTo("kafka-topics:arn:aws:kafka:us-east-1:123456789012:cluster/test/abc-1");
        assertThat(partitions(topic)).isEqualTo(3);

        JsonNode raised = invoke("Update", physicalId, kafka.bootstrapServers(), topic, 5);
        assertThat(raised.path("Status").asText()).isEqualTo("SUCCESS");
        assertThat(raised.path("PhysicalResourceId").asText()).isEqualTo(physicalId);
        assertThat(partitions(topic)).isEqualTo(5);

        JsonNode lowered = invoke("Update", physicalId, kafka.bootstrapServers(), topic, 2);
        assertThat(lowered.path("Status").asText()).isEqualTo("SUCCESS");
        assertThat(lowered.path("Data").path("Topics").asText()).contains("keeps its 5 partitions (Kafka cannot lower them to 2)");
        assertThat(partitions(topic)).isEqualTo(5);

        JsonNode deleted = invoke("Delete", physicalId, kafka.bootstrapServers(), topic, 5);
        assertThat(deleted.path("Status").asText()).isEqualTo("SUCCESS");
        assertThat(partitions(topic)).as("the backlog stays").isEqualTo(5);
    }

    @Test
    void anUnreachableClusterFailsTheResourceSayingWhere() throws Exception {
        String nowhere = "127.0.0.1:" + EmbeddedKafka.freePort();
        JsonNode failed = invoke("Create", null, nowhere, "never-created", 1);
        assertThat(failed.path("Status").asText()).isEqualTo("FAILED");
        assertThat(failed.path("Reason").asText()).contains("never-created").contains(nowhere);
        assertThat(failed.path("Reason").asText().toLowerCase()).containsAnyOf("timed out", "did not answer within 3 s");
    }

    private static JsonNode invoke(String requestType, String physicalId, String bootstrap, String topic, int partitions) throws Exception {
        CloudFormationCustomResourceEvent event = new CloudFormationCustomResourceEvent();
        event.setRequestType(requestType);
        event.setResponseUrl("http://127.0.0.1:" + cloudFormation.getAddress().getPort() + "/response");
        event.setStackId("arn:aws:cloudformation:us-east-1:123456789012:stack/Backbeat/1");
        event.setRequestId("request-" + System.nanoTime());
        event.setLogicalResourceId("KafkaTopics");
        event.setResourceType("Custom::KafkaTopics");
        event.setPhysicalResourceId(physicalId);
        event.setResourceProperties(Map.of("ClusterArn", "arn:aws:kafka:us-east-1:123456789012:cluster/test/abc-1",
                "BootstrapServers", bootstrap, "IamAuth", "false", "TimeoutSeconds", "3",
                "Topics", List.of(Map.of("Name", topic, "Partitions", Integer.toString(partitions)))));
        try (var http = ApacheHttpClient.create()) {
            new KafkaTopicsResource(http).handleRequest(event, new LocalLambdaContext("KafkaTopics", java.time.Duration.ofMinutes(5)));
        }
        JsonNode answer = answers.poll(30, TimeUnit.SECONDS);
        assertThat(answer).as("the answer PUT to CloudFormation's response URL").isNotNull();
        return answer;
    }

    private static int partitions(String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions().size();
        }
    }
}
