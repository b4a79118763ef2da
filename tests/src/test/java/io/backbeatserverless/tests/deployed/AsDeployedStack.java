package io.backbeatserverless.tests.deployed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.infra.BackbeatStack;
import io.backbeatserverless.infra.DeploymentConfig;
import io.backbeatserverless.localstack.EmbeddedKafka;
import io.backbeatserverless.localstack.FunctionProcess;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.Credentials;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The stack as {@code cdk deploy} would run it, on moto with IAM enforced ({@link MotoServer}): the CDK app is
 * synthesized for a deployment naming the emulator's buckets and secret; the template's tables, queues, bucket
 * notifications and event rule are created in the emulator; each function's role is created with exactly the policies
 * the template attaches to it; and each function runs in a JVM of its own ({@link FunctionProcess#startDeployed}) with
 * its template environment and the credentials of an {@code AssumeRole} on its own role, as Lambda and ECS give them.
 * Kafka stays the embedded broker (MSK is not emulated; its IAM authentication is off here, see docs/local-runs.md).
 *
 * <p>Started once for the run, by the first test class that extends with it, and stopped when the run ends.
 */
public final class AsDeployedStack implements BeforeAllCallback {

    static final String STACK = "Deployed";
    static final String SOURCE_BUCKET = "deployed-source";
    /** Keys under this prefix carrying this tag go to {@link #ROLE_SITE} alone (see {@code setRules}). */
    static final String TAGGED_PREFIX = "tagged/";
    static final Map.Entry<String, String> ONE_SITE_TAG = Map.entry("sites", "one");
    /** An AWS S3 site written with the replicator's own role (server-side copies from the source). */
    static final String ROLE_SITE = "aws-role";
    static final String ROLE_SITE_BUCKET = "deployed-replicas";
    /** An S3 site written with keys its owner gave, read by the replicator from Secrets Manager (streamed copies). */
    static final String KEYED_SITE = "keyed";
    static final String KEYED_SITE_BUCKET = "deployed-keyed";
    /** The KMS key of the source's SSE-KMS versions, and the one the role site's replicas are encrypted with (issue 30). */
    static final String SOURCE_KMS_KEY = "arn:aws:kms:us-east-1:" + DeployedTemplate.ACCOUNT + ":key/source-key";
    static final String REPLICA_KMS_KEY = "arn:aws:kms:us-east-1:" + DeployedTemplate.ACCOUNT + ":key/replica-key";
    /** The keyed site's owner's user, whose keys the replicator reads from the site's secret. */
    static final String KEYED_SITE_WRITER = "keyed-site-writer";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AsDeployedStack.class);
    private static volatile Running running;

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(AsDeployedStack.class.getName(), key -> start(), Running.class);
    }

    static Running stack() {
        if (running == null) {
            throw new IllegalStateException("annotate the test class with @ExtendWith(AsDeployedStack.class)");
        }
        return running;
    }

    private static Running start() {
        Running stack = new Running();
        try {
            stack.startAll();
            running = stack;
            return stack;
        } catch (Exception e) {
            stack.close();
            throw new IllegalStateException("cannot start the as-deployed stack: " + e.getMessage(), e);
        }
    }

    /** The running stack: the emulator's clients (as administrator), the functions, what they logged. */
    static final class Running implements ExtensionContext.Store.CloseableResource, AutoCloseable {

        MotoServer moto;
        EmbeddedKafka kafka;
        DeployedTemplate template;
        DeploymentConfig deployment;
        S3Client s3;
        DynamoDbClient dynamo;
        SqsClient sqs;
        IamClient iam;
        LambdaClient lambda;
        /** The ops API's URL (API Gateway's stage stands in on a local port). */
        java.net.URI opsUrl;
        /** The stack's bucket where the MSK triggers keep the batches they gave up on. */
        String triggerFailuresBucket;
        /** The stack's bucket where S3 Inventory delivers the reports verify reads (issue 29). */
        String inventoryReportsBucket;
        /** Where the template's event rule's matches arrive (its SNS target stands in as this queue). */
        String eventRuleQueueUrl;
        /** Table names by the logical id's prefix the stack gives them ({@code TablesReplicationStatus…}). */
        final Map<String, String> tables = new LinkedHashMap<>();
        final Map<String, FunctionProcess> functions = new LinkedHashMap<>();
        /** Each deployed function's role name, by function. */
        final Map<String, String> roles = new LinkedHashMap<>();
        /** Each role's inline policies as the template gives them (resolved), by role name, then policy name. */
        final Map<String, Map<String, JsonNode>> rolePolicies = new LinkedHashMap<>();
        /** Each replicator's event source mapping (its stand-in in the emulator), by site. */
        final Map<String, String> mappingBySite = new LinkedHashMap<>();
        /** Every line a function logged that says access was denied, with the function's name. */
        final List<String> accessDenied = new CopyOnWriteArrayList<>();
        /** Every line each function logged, by function (newest last). */
        final Map<String, List<String>> logs = new ConcurrentHashMap<>();
        private final List<AutoCloseable> started = Collections.synchronizedList(new ArrayList<>());
        private Path work;

        private void startAll() throws Exception {
            // Under target/: the synthesized template and each function's log stay there after a failed run.
            work = Files.createDirectories(Path.of("target", "as-deployed", Long.toString(System.currentTimeMillis())));
            moto = MotoServer.start();
            started.add(moto);
            kafka = EmbeddedKafka.start("127.0.0.1", EmbeddedKafka.freePort());
            started.add(kafka);
            s3 = moto.admin(S3Client.builder().forcePathStyle(true));
            dynamo = moto.admin(DynamoDbClient.builder());
            sqs = moto.admin(SqsClient.builder());
            iam = moto.admin(IamClient.builder().region(software.amazon.awssdk.regions.Region.AWS_GLOBAL));
            lambda = moto.admin(LambdaClient.builder());
            started.addAll(List.of(s3, dynamo, sqs, iam, lambda));

            for (String bucket : List.of(SOURCE_BUCKET, ROLE_SITE_BUCKET, KEYED_SITE_BUCKET)) {
                // Issue 30: the source and the role site's bucket have Object Lock, the keyed site's has not.
                s3.createBucket(r -> r.bucket(bucket).objectLockEnabledForBucket(bucket.equals(KEYED_SITE_BUCKET) ? null : Boolean.TRUE));
                s3.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
            }
            String keyedSecret = keyedSiteSecret();
            deployment = DeploymentConfig.parse("""
                    {"source": {"type": "s3", "buckets": ["%s"], "kmsKeyArns": ["%s"]},
                     "sites": [{"name": "%s", "bucket": "%s", "encryption": {"kmsKeyId": "%s"}},
                               {"name": "%s", "bucket": "%s", "credentialsSecretArn": "%s"}],
                     "kafka": {"partitions": 2},
                     "eventSource": {"batchSize": 50, "batchWindowSeconds": 0},
                     "verify": {"inventory": {"fromVersions": 1}}}
                    """.formatted(SOURCE_BUCKET, SOURCE_KMS_KEY, ROLE_SITE, ROLE_SITE_BUCKET, REPLICA_KMS_KEY, KEYED_SITE, KEYED_SITE_BUCKET,
                    keyedSecret));
            template = DeployedTemplate.synthesize(STACK, deployment, work);

            bindKafka();
            createTables();
            createQueues();
            createBuckets();
            bindRolesAndFunctions();
            java.util.Set<String> ourRoles = createRoles();
            createEventSourceMappingStandIns();
            putRolePolicies(ourRoles);
            applyBucketNotifications();
            createEventRules();
            startFunctions();
            Thread mirror = Thread.ofPlatform().daemon().name("esm-state").start(this::mirrorMappingStates);
            started.add(mirror::interrupt);
            setRules();
        }

        /**
         * The operator's step after the deploy (docs/deploy.md, step 6): AWS S3 sources keep their rules in the rule store,
         * set through the ops API. Every key to both sites; keys under {@code tagged/} that carry {@link #ONE_SITE_TAG} to
         * {@link #ROLE_SITE} alone (a rule on tags: the populator reads a version's tags to choose its rule).
         */
        private void setRules() throws Exception {
            String destination = "\"Destination\":{\"Bucket\":\"arn:aws:s3:::" + ROLE_SITE_BUCKET + "\",\"StorageClass\":\"";
            String rules = "{\"Role\":\"arn:aws:iam::" + DeployedTemplate.ACCOUNT + ":role/s3-replication-role\",\"Rules\":["
                    + "{\"ID\":\"tagged-one-site\",\"Status\":\"Enabled\",\"Priority\":2,\"Filter\":{\"And\":{\"Prefix\":\"" + TAGGED_PREFIX
                    + "\",\"Tags\":[{\"Key\":\"" + ONE_SITE_TAG.getKey() + "\",\"Value\":\"" + ONE_SITE_TAG.getValue() + "\"}]}},"
                    + "\"DeleteMarkerReplication\":{\"Status\":\"Enabled\"}," + destination + ROLE_SITE + "\"}},"
                    + "{\"ID\":\"everything\",\"Status\":\"Enabled\",\"Priority\":1,\"Filter\":{\"Prefix\":\"\"},"
                    + "\"DeleteMarkerReplication\":{\"Status\":\"Enabled\"}," + destination + ROLE_SITE + "," + KEYED_SITE + "\"}}]}";
            var request = java.net.http.HttpRequest.newBuilder(opsUrl.resolve("_/rules/" + SOURCE_BUCKET))
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(rules)).build();
            try (var client = java.net.http.HttpClient.newHttpClient()) {
                var response = client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 200) {
                    throw new IllegalStateException("PUT /_/rules/" + SOURCE_BUCKET + ": " + response.statusCode() + " " + response.body());
                }
            }
        }

        // ---------------------------------------------------------------- what CloudFormation would create

        /** The cluster's ARN and brokers (the embedded broker), and the topics the template declares. */
        private void bindKafka() throws Exception {
            String clusterArn = "arn:aws:kafka:" + DeployedTemplate.REGION + ":" + DeployedTemplate.ACCOUNT + ":cluster/"
                    + STACK + "-kafka/0b5f3a1e-7d1c-4f4e-9b1a-2f6c7e8d9a0b-s1";
            for (String type : List.of("AWS::MSK::ServerlessCluster", "AWS::MSK::Cluster")) {
                template.resourcesOfType(type).keySet().forEach(id -> template.bind(id, clusterArn, Map.of("Arn", clusterArn)));
            }
            template.resourcesOfType("Custom::AWS").forEach((id, resource) -> {
                if (resource.path("Properties").path("Update").toString().contains("getBootstrapBrokers")
                        || resource.path("Properties").path("Create").toString().contains("getBootstrapBrokers")) {
                    template.bind(id, clusterArn, Map.of("BootstrapBrokerStringSaslIam", kafka.bootstrapServers()));
                }
            });
            Map<String, Integer> topics = new LinkedHashMap<>();
            template.resourcesOfType("AWS::MSK::Topic").forEach((id, topic) -> {
                JsonNode properties = topic.path("Properties");
                topics.put(properties.path("TopicName").asText(), properties.path("PartitionCount").asInt());
                template.bind(id, properties.path("TopicName").asText(), Map.of());
            });
            kafka.createTopics(topics);
            // MSK Serverless: the topics' custom resource, its properties as the template gives them, created by its own
            // code (the embedded broker has no IAM authentication).
            template.resourcesOfType("Custom::KafkaTopics").forEach((id, resource) -> {
                JsonNode properties = resource.path("Properties");
                List<io.backbeatserverless.ops.KafkaTopicsResource.TopicSpec> wanted = new ArrayList<>();
                template.resolve(properties.path("Topics")).forEach(topic -> wanted.add(new io.backbeatserverless.ops.KafkaTopicsResource.TopicSpec(
                        topic.path("Name").asText(), Integer.parseInt(topic.path("Partitions").asText()))));
                io.backbeatserverless.ops.KafkaTopicsResource.ensure(new io.backbeatserverless.adapters.config.BackbeatConfig.KafkaSettings(
                        template.resolveText(properties.path("BootstrapServers")), null, null, 0, false), wanted, Duration.ofSeconds(60));
                template.bind(id, "kafka-topics:" + clusterArn, Map.of());
            });
        }

        private void createTables() {
            template.resourcesOfType("AWS::DynamoDB::Table").forEach((id, table) -> {
                JsonNode properties = template.resolve(table.path("Properties"));
                String name = template.physicalName(id);
                List<KeySchemaElement> keys = new ArrayList<>();
                properties.path("KeySchema").forEach(k -> keys.add(KeySchemaElement.builder()
                        .attributeName(k.path("AttributeName").asText()).keyType(k.path("KeyType").asText()).build()));
                List<AttributeDefinition> attributes = new ArrayList<>();
                properties.path("AttributeDefinitions").forEach(a -> attributes.add(AttributeDefinition.builder()
                        .attributeName(a.path("AttributeName").asText()).attributeType(a.path("AttributeType").asText()).build()));
                List<GlobalSecondaryIndex> indexes = new ArrayList<>();
                properties.path("GlobalSecondaryIndexes").forEach(index -> {
                    List<KeySchemaElement> indexKeys = new ArrayList<>();
                    index.path("KeySchema").forEach(k -> indexKeys.add(KeySchemaElement.builder()
                            .attributeName(k.path("AttributeName").asText()).keyType(k.path("KeyType").asText()).build()));
                    indexes.add(GlobalSecondaryIndex.builder().indexName(index.path("IndexName").asText()).keySchema(indexKeys)
                            .projection(Projection.builder().projectionType(index.path("Projection").path("ProjectionType").asText()).build())
                            .build());
                });
                dynamo.createTable(r -> {
                    r.tableName(name).keySchema(keys).attributeDefinitions(attributes).billingMode(BillingMode.PAY_PER_REQUEST);
                    if (!indexes.isEmpty()) {
                        r.globalSecondaryIndexes(indexes);
                    }
                });
                JsonNode ttl = properties.path("TimeToLiveSpecification");
                if (ttl.path("Enabled").asBoolean(false)) {
                    dynamo.updateTimeToLive(r -> r.tableName(name).timeToLiveSpecification(t -> t.enabled(true)
                            .attributeName(ttl.path("AttributeName").asText())));
                }
                String arn = "arn:aws:dynamodb:" + DeployedTemplate.REGION + ":" + DeployedTemplate.ACCOUNT + ":table/" + name;
                template.bind(id, name, Map.of("Arn", arn, "StreamArn", arn + "/stream/none"));
                tables.put(id, name);
            });
        }

        /** The stack's own buckets (the MSK triggers' failure bucket). */
        private void createBuckets() {
            template.resourcesOfType("AWS::S3::Bucket").keySet().forEach(id -> {
                String name = template.physicalName(id).toLowerCase(java.util.Locale.ROOT);
                s3.createBucket(r -> r.bucket(name));
                template.bind(id, name, Map.of("Arn", "arn:aws:s3:::" + name, "DomainName", name + ".s3.amazonaws.com"));
                if (id.startsWith("TriggerFailuresBucket")) {
                    triggerFailuresBucket = name;
                }
                if (id.startsWith("VerifyInventoriesReports")) {
                    inventoryReportsBucket = name;
                }
            });
        }

        /** Queues first without their redrive policies (they name each other's ARNs), then those. */
        private void createQueues() {
            Map<String, JsonNode> queues = template.resourcesOfType("AWS::SQS::Queue");
            queues.forEach((id, queue) -> {
                String name = template.physicalName(id);
                String url = sqs.createQueue(r -> r.queueName(name)).queueUrl();
                String arn = sqs.getQueueAttributes(r -> r.queueUrl(url).attributeNames(QueueAttributeName.QUEUE_ARN))
                        .attributes().get(QueueAttributeName.QUEUE_ARN);
                template.bind(id, url, Map.of("Arn", arn, "QueueName", name, "QueueUrl", url));
            });
            queues.forEach((id, queue) -> {
                JsonNode redrive = queue.path("Properties").path("RedrivePolicy");
                if (!redrive.isMissingNode()) {
                    String url = template.resolveText(JSON.createObjectNode().put("Ref", id));
                    sqs.setQueueAttributes(r -> r.queueUrl(url).attributes(Map.of(QueueAttributeName.REDRIVE_POLICY,
                            template.resolve(redrive).toString())));
                }
            });
        }

        /** Role names and ARNs, and the functions' names and ARNs (what the policies and environments refer to). */
        private void bindRolesAndFunctions() {
            template.resourcesOfType("AWS::IAM::Role").keySet().forEach(id -> {
                String name = template.physicalName(id);
                template.bind(id, name, Map.of("Arn", "arn:aws:iam::" + DeployedTemplate.ACCOUNT + ":role/" + name, "RoleId", "AROA" + id.hashCode()));
            });
            template.resourcesOfType("AWS::Lambda::Function").keySet().forEach(id -> {
                String name = template.physicalName(id);
                template.bind(id, name, Map.of("Arn", "arn:aws:lambda:" + DeployedTemplate.REGION + ":" + DeployedTemplate.ACCOUNT
                        + ":function:" + name));
            });
            // The functions' alias "live" (SnapStart, issue 33): a Ref to an alias is its ARN, the function's with the alias
            // name; the functions here run as the alias would (their one version is the code the suite runs).
            template.resourcesOfType("AWS::Lambda::Alias").forEach((id, alias) -> {
                String function = template.physicalName(functionBehind(alias.path("Properties").path("FunctionName")));
                String arn = "arn:aws:lambda:" + DeployedTemplate.REGION + ":" + DeployedTemplate.ACCOUNT + ":function:" + function + ":"
                        + alias.path("Properties").path("Name").asText();
                template.bind(id, arn, Map.of());
            });
        }

        /**
         * Every role a function runs with, and exactly its policies from the template. Its trust policy names the suite's
         * administrator, who assumes it on the function's behalf, as Lambda and ECS assume theirs.
         */
        private java.util.Set<String> createRoles() {
            String trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\""
                    + moto.adminArn() + "\"},\"Action\":\"sts:AssumeRole\"}]}";
            java.util.Set<String> ours = new java.util.HashSet<>();
            template.resourcesOfType("AWS::Lambda::Function").values().forEach(function -> {
                if (function.path("Properties").path("Handler").asText().startsWith("io.backbeatserverless.")) {
                    ours.add(function.path("Properties").path("Role").path("Fn::GetAtt").get(0).asText());
                }
            });
            template.resourcesOfType("AWS::ECS::TaskDefinition").values().forEach(task ->
                    ours.add(task.path("Properties").path("TaskRoleArn").path("Fn::GetAtt").get(0).asText()));
            for (String id : ours) {
                String name = template.physicalName(id);
                iam.createRole(r -> r.roleName(name).assumeRolePolicyDocument(trust));
                rolePolicies.put(name, new LinkedHashMap<>());
            }
            return ours;
        }

        /** Each of those roles' policies, resolved once every resource they name exists. */
        private void putRolePolicies(java.util.Set<String> ours) {
            template.resourcesOfType("AWS::IAM::Policy").forEach((id, policy) -> {
                JsonNode properties = policy.path("Properties");
                for (JsonNode role : properties.path("Roles")) {
                    String roleId = role.path("Ref").asText();
                    if (ours.contains(roleId)) {
                        putRolePolicy(template.physicalName(roleId), id, template.resolveLeniently(properties.path("PolicyDocument")));
                    }
                }
            });
        }

        void putRolePolicy(String roleName, String policyName, JsonNode document) {
            iam.putRolePolicy(r -> r.roleName(roleName).policyName(policyName).policyDocument(document.toString()));
            rolePolicies.computeIfAbsent(roleName, k -> new LinkedHashMap<>()).put(policyName, document);
        }

        /**
         * The MSK triggers: moto has no Kafka event source mappings, so each stands in as a mapping of the same function on
         * a queue of its own (nothing is ever sent there); the ops function pauses and resumes that mapping through the
         * Lambda API under its role, and the suite passes its state on to the local trigger ({@link #mirrorMappingStates}).
         */
        private void createEventSourceMappingStandIns() throws IOException {
            byte[] code = emptyZip();
            template.resourcesOfType("AWS::Lambda::EventSourceMapping").forEach((id, mapping) -> {
                String functionId = functionOf(mapping);
                String functionName = template.physicalName(functionId);
                String role = template.resolveText(template.resource(functionId).path("Properties").path("Role"));
                if (lambda.listFunctions().functions().stream().noneMatch(f -> f.functionName().equals(functionName))) {
                    lambda.createFunction(r -> r.functionName(functionName).role(role).runtime(Runtime.JAVA21)
                            .handler(template.resource(functionId).path("Properties").path("Handler").asText())
                            .code(c -> c.zipFile(SdkBytes.fromByteArray(code))));
                }
                String queueUrl = sqs.createQueue(r -> r.queueName("esm-stand-in-" + id)).queueUrl();
                String queueArn = sqs.getQueueAttributes(r -> r.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                        .attributes().get(QueueAttributeName.QUEUE_ARN);
                String uuid = lambda.createEventSourceMapping(r -> r.functionName(functionName).eventSourceArn(queueArn).enabled(true)).uuid();
                template.bind(id, uuid, Map.of());
                String site = siteOf(functionId);
                if (site != null) {
                    mappingBySite.put(site, uuid);
                }
            });
        }

        private void applyBucketNotifications() {
            template.resourcesOfType("Custom::S3BucketNotifications").forEach((id, resource) -> {
                JsonNode properties = template.resolve(resource.path("Properties"));
                List<software.amazon.awssdk.services.s3.model.QueueConfiguration> queues = new ArrayList<>();
                properties.path("NotificationConfiguration").path("QueueConfigurations").forEach(q -> {
                    List<String> events = new ArrayList<>();
                    q.path("Events").forEach(e -> events.add(e.asText()));
                    queues.add(software.amazon.awssdk.services.s3.model.QueueConfiguration.builder()
                            .queueArn(q.path("QueueArn").asText()).eventsWithStrings(events).build());
                });
                s3.putBucketNotificationConfiguration(r -> r.bucket(properties.path("BucketName").asText())
                        .notificationConfiguration(n -> n.queueConfigurations(queues)));
            });
        }

        /** The template's event rules on the default bus, each sending what it matches to a queue the tests read. */
        private void createEventRules() {
            eventRuleQueueUrl = sqs.createQueue(r -> r.queueName("event-rule-matches")).queueUrl();
            String queueArn = sqs.getQueueAttributes(r -> r.queueUrl(eventRuleQueueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                    .attributes().get(QueueAttributeName.QUEUE_ARN);
            try (EventBridgeClient events = moto.admin(EventBridgeClient.builder())) {
                template.resourcesOfType("AWS::Events::Rule").forEach((id, rule) -> {
                    JsonNode pattern = rule.path("Properties").path("EventPattern");
                    events.putRule(r -> r.name(id).eventPattern(pattern.toString()));
                    events.putTargets(r -> r.rule(id).targets(t -> t.id("suite").arn(queueArn)));
                });
            }
        }

        // ---------------------------------------------------------------- the functions, as Lambda and ECS run them

        private void startFunctions() throws Exception {
            try (StsClient sts = moto.admin(StsClient.builder())) {
                for (Map.Entry<String, JsonNode> entry : template.resourcesOfType("AWS::Lambda::EventSourceMapping").entrySet()) {
                    JsonNode mapping = template.resolve(entry.getValue().path("Properties"));
                    String functionId = functionOf(entry.getValue());
                    JsonNode function = template.resource(functionId).path("Properties");
                    String site = siteOf(functionId);
                    String name = site == null ? "status" : "replicator-" + site;
                    startFunction(sts, name, functionId, List.of("kafka", function.path("Handler").asText(), kafka.bootstrapServers(),
                            mapping.path("Topics").get(0).asText(),
                            mapping.path("AmazonManagedKafkaEventSourceConfig").path("ConsumerGroupId").asText(),
                            mapping.path("BatchSize").asText("100"),
                            Long.toString(mapping.path("MaximumBatchingWindowInSeconds").asLong(0) * 1000),
                            function.path("Timeout").asText("3")), Map.of());
                }
                String opsId = functionWithHandler(BackbeatStack.OPS_HANDLER);
                int opsPort = EmbeddedKafka.freePort();
                startFunction(sts, "ops", opsId, List.of("http", BackbeatStack.OPS_HANDLER, Integer.toString(opsPort)), Map.of());
                opsUrl = java.net.URI.create("http://127.0.0.1:" + opsPort + "/");
                String verifierId = functionWithHandler(BackbeatStack.VERIFIER_HANDLER);
                // EventBridge Scheduler's every-minute walk of the verify runs, every two seconds here.
                startFunction(sts, "verifier", verifierId, List.of("schedule", BackbeatStack.VERIFIER_HANDLER, "2000",
                        scheduleInput(verifierId), "60"), Map.of());
                startPopulator(sts);
            }
        }

        private void startPopulator(StsClient sts) throws Exception {
            Map.Entry<String, JsonNode> task = template.resourcesOfType("AWS::ECS::TaskDefinition").entrySet().iterator().next();
            JsonNode containerEnvironment = template.resolve(task.getValue().path("Properties").path("ContainerDefinitions").get(0)
                    .path("Environment"));
            Map<String, String> environment = new LinkedHashMap<>();
            containerEnvironment.forEach(variable -> environment.put(variable.path("Name").asText(), variable.path("Value").asText()));
            environment.put("BACKBEAT_POPULATOR_HEALTH_PORT", Integer.toString(EmbeddedKafka.freePort()));
            String roleName = template.resolveText(task.getValue().path("Properties").path("TaskRoleArn").get("Fn::GetAtt") == null
                    ? task.getValue().path("Properties").path("TaskRoleArn")
                    : JSON.createObjectNode().put("Ref", task.getValue().path("Properties").path("TaskRoleArn").get("Fn::GetAtt").get(0).asText()));
            roles.put("populator", roleName);
            String mainClass = "io.backbeatserverless.populator.PopulatorMain";
            launch(sts, "populator", roleName, List.of("main", mainClass), environment, false);
        }

        private void startFunction(StsClient sts, String name, String functionId, List<String> trigger, Map<String, String> extra)
                throws Exception {
            JsonNode function = template.resource(functionId).path("Properties");
            Map<String, String> environment = new LinkedHashMap<>();
            template.resolve(function.path("Environment").path("Variables")).fields()
                    .forEachRemaining(variable -> environment.put(variable.getKey(), variable.getValue().asText()));
            environment.put("AWS_LAMBDA_FUNCTION_NAME", template.physicalName(functionId));
            environment.putAll(extra);
            String roleName = template.resolveText(JSON.createObjectNode().put("Ref",
                    function.path("Role").path("Fn::GetAtt").get(0).asText()));
            roles.put(name, roleName);
            launch(sts, name, roleName, trigger, environment, true);
        }

        /** A function under its role: the environment AWS gives it (its role's temporary keys, its region). */
        private void launch(StsClient sts, String name, String roleName, List<String> trigger, Map<String, String> environment,
                            boolean lambdaFunction) throws Exception {
            Credentials credentials = sts.assumeRole(r -> r.roleArn("arn:aws:iam::" + DeployedTemplate.ACCOUNT + ":role/" + roleName)
                    .roleSessionName(name).durationSeconds(43_200)).credentials();
            Map<String, String> env = new HashMap<>(environment);
            env.put("AWS_ACCESS_KEY_ID", credentials.accessKeyId());
            env.put("AWS_SECRET_ACCESS_KEY", credentials.secretAccessKey());
            env.put("AWS_SESSION_TOKEN", credentials.sessionToken());
            env.put("AWS_REGION", DeployedTemplate.REGION);
            env.put("AWS_DEFAULT_REGION", DeployedTemplate.REGION);
            // Every AWS SDK client of the function reaches the emulator (the SDK's own setting: no code of ours changes).
            env.put("AWS_ENDPOINT_URL", moto.endpoint().toString());
            env.put("AWS_EC2_METADATA_DISABLED", "true");
            // The embedded broker has no IAM authentication (MSK's is not emulated).
            env.put("BACKBEAT_SET_kafka__iamAuth", "false");
            logs.put(name, new CopyOnWriteArrayList<>());
            Path log = work.resolve(name + ".log");
            FunctionProcess process = FunctionProcess.startDeployed(name, trigger, env, lambdaFunction, line -> {
                logs.get(name).add(line);
                try {
                    Files.writeString(log, line + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                if (line.contains("AccessDenied") || line.contains("not authorized to perform")) {
                    accessDenied.add(name + ": " + line);
                }
            });
            started.add(process);
            functions.put(name, process);
        }

        /** Each replicator's trigger's state as applied, by site: what Lambda's pollers do (true: delivering). */
        private final Map<String, Boolean> applied = new ConcurrentHashMap<>();

        /**
         * Waits until the site's trigger has taken its mapping's new state. Lambda takes a while too: records may still be
         * delivered between UpdateEventSourceMapping and the mapping's state becoming Disabled.
         */
        void awaitTrigger(String site, boolean enabled) {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.valueOf(enabled).equals(applied.get(site)));
        }

        /** Lambda's poller follows its mapping's state: a disabled mapping (a paused site) delivers nothing. */
        private void mirrorMappingStates() {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    for (Map.Entry<String, String> mapping : mappingBySite.entrySet()) {
                        boolean enabled = "Enabled".equals(lambda.getEventSourceMapping(r -> r.uuid(mapping.getValue())).state());
                        if (!Boolean.valueOf(enabled).equals(applied.get(mapping.getKey()))) {
                            LOG.info("event source mapping of site {} is {}: its trigger follows", mapping.getKey(),
                                    enabled ? "enabled" : "disabled");
                            functions.get("replicator-" + mapping.getKey()).setEnabled(enabled);
                            applied.put(mapping.getKey(), enabled);
                        }
                    }
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    if (Thread.currentThread().isInterrupted()) {
                        return;
                    }
                    LOG.warn("event source mappings' states: {}", e.toString());
                }
            }
        }

        // ---------------------------------------------------------------- reading the template

        private String functionOf(JsonNode mapping) {
            return functionBehind(mapping.path("Properties").path("FunctionName"));
        }

        /**
         * The function a reference names ({@code Ref} or {@code Fn::GetAtt}), through its alias when it names one: the
         * triggers and schedules invoke the functions' alias "live" (SnapStart, issue 33).
         */
        private String functionBehind(JsonNode reference) {
            JsonNode getAtt = reference.path("Fn::GetAtt");
            String id = getAtt.isMissingNode() ? reference.path("Ref").asText() : getAtt.get(0).asText();
            JsonNode resource = template.resource(id);
            return "AWS::Lambda::Alias".equals(resource.path("Type").asText())
                    ? functionBehind(resource.path("Properties").path("FunctionName")) : id;
        }

        /** The site a replicator function serves (its BACKBEAT_SITE), or null for another function. */
        private String siteOf(String functionId) {
            JsonNode site = template.resource(functionId).path("Properties").path("Environment").path("Variables").path("BACKBEAT_SITE");
            return site.isMissingNode() ? null : site.asText();
        }

        private String functionWithHandler(String handler) {
            return template.resourcesOfType("AWS::Lambda::Function").entrySet().stream()
                    .filter(f -> f.getValue().path("Properties").path("Handler").asText().equals(handler))
                    .map(Map.Entry::getKey).findFirst().orElseThrow(() -> new IllegalStateException("no function runs " + handler));
        }

        /** The input the template's schedule passes the function (its walk of the verify runs). */
        private String scheduleInput(String functionId) {
            for (JsonNode schedule : template.resourcesOfType("AWS::Scheduler::Schedule").values()) {
                JsonNode target = schedule.path("Properties").path("Target");
                if (functionBehind(target.path("Arn")).equals(functionId)
                        && "rate(1 minute)".equals(schedule.path("Properties").path("ScheduleExpression").asText())) {
                    return target.path("Input").asText();
                }
            }
            throw new IllegalStateException("no every-minute schedule invokes " + functionId);
        }

        /** The keyed site's owner: a user allowed its bucket, whose keys are in a secret the replicator reads. */
        private String keyedSiteSecret() {
            iam.createUser(r -> r.userName(KEYED_SITE_WRITER));
            ObjectNode policy = JSON.createObjectNode().put("Version", "2012-10-17");
            ArrayNode statements = policy.putArray("Statement");
            ObjectNode onBucket = statements.addObject().put("Effect", "Allow").put("Resource", "arn:aws:s3:::" + KEYED_SITE_BUCKET);
            onBucket.set("Action", JSON.valueToTree(BackbeatStack.siteKeyBucketActions()));
            ObjectNode onObjects = statements.addObject().put("Effect", "Allow").put("Resource", "arn:aws:s3:::" + KEYED_SITE_BUCKET + "/*");
            onObjects.set("Action", JSON.valueToTree(BackbeatStack.siteKeyObjectActions()));
            iam.putUserPolicy(r -> r.userName(KEYED_SITE_WRITER).policyName("site-keys").policyDocument(policy.toString()));
            var key = iam.createAccessKey(r -> r.userName(KEYED_SITE_WRITER)).accessKey();
            try (SecretsManagerClient secrets = moto.admin(SecretsManagerClient.builder())) {
                return secrets.createSecret(r -> r.name("backbeat/keyed-site").secretString(JSON.createObjectNode()
                        .put("accessKeyId", key.accessKeyId()).put("secretAccessKey", key.secretAccessKey()).toString())).arn();
            }
        }

        /**
         * The lines where a function's own role (an assumed role) was denied something: what must never happen. A site
         * refusing its owner's keys is not among them (a scenario does that on purpose).
         */
        List<String> deniedToRoles() {
            return accessDenied.stream().filter(line -> line.contains(":assumed-role/")).toList();
        }

        /** Temporary keys of the role a function runs with, for a test that acts as that function would. */
        AwsCredentials credentialsOf(String function) {
            try (StsClient sts = moto.admin(StsClient.builder())) {
                Credentials c = sts.assumeRole(r -> r.roleArn("arn:aws:iam::" + DeployedTemplate.ACCOUNT + ":role/" + roles.get(function))
                        .roleSessionName(function + "-probe")).credentials();
                return AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken());
            }
        }

        /** The table whose logical id starts with {@code prefix} ({@code TablesReplicationStatus}). */
        String table(String prefix) {
            return tables.entrySet().stream().filter(t -> t.getKey().startsWith(prefix)).map(Map.Entry::getValue).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no table " + prefix + "* in " + tables.keySet()));
        }

        private static byte[] emptyZip() throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
                zip.putNextEntry(new ZipEntry("stand-in.txt"));
                zip.write("the function runs locally".getBytes());
                zip.closeEntry();
            }
            return bytes.toByteArray();
        }

        @Override
        public void close() {
            List<AutoCloseable> toClose = new ArrayList<>(started);
            Collections.reverse(toClose);
            for (AutoCloseable closeable : toClose) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    System.err.println("stopping " + closeable + ": " + e);
                }
            }
        }
    }
}
