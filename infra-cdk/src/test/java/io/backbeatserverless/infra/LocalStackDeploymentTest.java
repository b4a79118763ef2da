package io.backbeatserverless.infra;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.containers.localstack.LocalStackContainer.Service;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Event;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The stack's definitions exercised on LocalStack: the tables exactly as the template declares them, and
 * an S3 put on a source bucket arriving in the change queue as the stack's notifications configure it.
 * Skipped where there is no Docker (as on the machine this was written on).
 */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackDeploymentTest {

    @Container
    static final LocalStackContainer LOCALSTACK = new LocalStackContainer(DockerImageName.parse("localstack/localstack:4.4"))
            .withServices(Service.S3, Service.SQS, Service.DYNAMODB);

    @TempDir
    static Path work;
    static SynthesizedDeployment synthesized;

    @BeforeAll
    static void synthesize() {
        synthesized = SynthesizedDeployment.of(BackbeatStackTest.TWO_SITES, work);
    }

    @Test
    void theTemplatesTablesCanBeCreated() {
        try (DynamoDbClient dynamo = DynamoDbClient.builder().endpointOverride(LOCALSTACK.getEndpoint())
                .region(Region.of(LOCALSTACK.getRegion())).credentialsProvider(credentials()).build()) {
            var tables = synthesized.template().findResources("AWS::DynamoDB::Table");
            for (var table : tables.entrySet()) {
                Map<?, ?> properties = (Map<?, ?>) ((Map<?, ?>) table.getValue()).get("Properties");
                dynamo.createTable(createRequest(table.getKey(), properties));
            }
            assertThat(dynamo.listTables().tableNames()).containsAll(tables.keySet());
        }
    }

    @Test
    void anObjectPutOnASourceBucketArrivesInTheChangeQueue() {
        try (S3Client s3 = S3Client.builder().endpointOverride(LOCALSTACK.getEndpoint()).forcePathStyle(true)
                .region(Region.of(LOCALSTACK.getRegion())).credentialsProvider(credentials()).build();
             SqsClient sqs = SqsClient.builder().endpointOverride(LOCALSTACK.getEndpoint())
                     .region(Region.of(LOCALSTACK.getRegion())).credentialsProvider(credentials()).build()) {
            String queueUrl = sqs.createQueue(r -> r.queueName("backbeat-source-changes")).queueUrl();
            String queueArn = sqs.getQueueAttributes(r -> r.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                    .attributes().get(QueueAttributeName.QUEUE_ARN);
            s3.createBucket(r -> r.bucket("source-bucket"));
            s3.putBucketNotificationConfiguration(r -> r.bucket("source-bucket").notificationConfiguration(n -> n
                    .queueConfigurations(q -> q.queueArn(queueArn).events(Event.S3_OBJECT_CREATED, Event.S3_OBJECT_REMOVED))));

            s3.putObject(r -> r.bucket("source-bucket").key("key0"), RequestBody.fromString("hello, replica"));

            List<String> bodies = new ArrayList<>();
            Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
            while (bodies.stream().noneMatch(b -> b.contains("\"key\":\"key0\"")) && Instant.now().isBefore(deadline)) {
                sqs.receiveMessage(r -> r.queueUrl(queueUrl).waitTimeSeconds(2)).messages()
                        .forEach(m -> bodies.add(m.body()));
            }
            assertThat(bodies).anySatisfy(body -> assertThat(body).contains("ObjectCreated:Put").contains("\"key\":\"key0\""));
        }
    }

    private static StaticCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(LOCALSTACK.getAccessKey(), LOCALSTACK.getSecretKey()));
    }

    /** A CreateTable request from a template's AWS::DynamoDB::Table properties (the table named by its logical id). */
    private static CreateTableRequest createRequest(String name, Map<?, ?> properties) {
        var builder = CreateTableRequest.builder().tableName(name).billingMode(BillingMode.PAY_PER_REQUEST)
                .keySchema(keySchema(properties.get("KeySchema")))
                .attributeDefinitions(((List<?>) properties.get("AttributeDefinitions")).stream().map(d -> (Map<?, ?>) d)
                        .map(d -> AttributeDefinition.builder().attributeName((String) d.get("AttributeName"))
                                .attributeType((String) d.get("AttributeType")).build()).toList());
        if (properties.get("GlobalSecondaryIndexes") instanceof List<?> indexes) {
            builder.globalSecondaryIndexes(indexes.stream().map(i -> (Map<?, ?>) i)
                    .map(i -> GlobalSecondaryIndex.builder().indexName((String) i.get("IndexName"))
                            .keySchema(keySchema(i.get("KeySchema")))
                            .projection(Projection.builder()
                                    .projectionType((String) ((Map<?, ?>) i.get("Projection")).get("ProjectionType")).build())
                            .build()).toList());
        }
        return builder.build();
    }

    private static List<KeySchemaElement> keySchema(Object elements) {
        return ((List<?>) elements).stream().map(e -> (Map<?, ?>) e)
                .map(e -> KeySchemaElement.builder().attributeName((String) e.get("AttributeName"))
                        .keyType((String) e.get("KeyType")).build()).toList();
    }
}
