package io.backbeatserverless.infra;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awscdk.assertions.Annotations;
import software.amazon.awscdk.assertions.Match;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The template of a two-site deployment with an AWS S3 source, synthesized once. */
class BackbeatStackTest {

    static final String TWO_SITES = """
            {"source": {"type": "s3", "buckets": ["source-bucket"],
                        "kmsKeyArns": ["arn:aws:kms:us-east-1:111122223333:key/source-key"]},
             "sites": [
               {"name": "aws-location", "bucket": "replica-bucket", "region": "us-west-2",
                "encryption": {"kmsKeyId": "arn:aws:kms:us-west-2:111122223333:key/replica-key"}, "autoRetrySeconds": [30, 600],
                "maxBytesPerSecond": 20000000},
               {"name": "zenko", "endpointUrl": "https://s3.zenko.example", "bucket": "replicas",
                "credentialsSecretArn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:zenko-AbCdEf"}],
             "eventSource": {"batchSize": 50, "batchWindowSeconds": 2, "minimumPollers": 1, "maximumPollers": 8},
             "functions": {"replicatorKeyConcurrency": 32},
             "verify": {"inventory": {"fromVersions": 5000000}},
             "alarmEmail": "ops@example.com"}
            """;

    @TempDir
    static Path work;
    static SynthesizedDeployment synthesized;

    @BeforeAll
    static void synthesize() {
        synthesized = SynthesizedDeployment.of(TWO_SITES, work);
    }

    @Test
    void oneReplicatorFunctionAndTriggerPerSiteWithItsOwnConsumerGroup() {
        var template = synthesized.template();
        assertThat(template.findResources("AWS::Lambda::Function", Match.objectLike(Map.of("Properties",
                Map.of("Handler", BackbeatStack.REPLICATOR_HANDLER))))).hasSize(2);
        var triggers = template.findResources("AWS::Lambda::EventSourceMapping",
                Match.objectLike(Map.of("Properties", Map.of("Topics", List.of(KafkaCluster.REPLICATION_TOPIC)))));
        assertThat(triggers).hasSize(2);
        List<Object> groups = new ArrayList<>();
        for (Object trigger : triggers.values()) {
            Map<?, ?> properties = (Map<?, ?>) ((Map<?, ?>) trigger).get("Properties");
            groups.add(((Map<?, ?>) properties.get("AmazonManagedKafkaEventSourceConfig")).get("ConsumerGroupId"));
            assertThat(properties.get("BatchSize")).isEqualTo(50);
            assertThat(properties.get("MaximumBatchingWindowInSeconds")).isEqualTo(2);
            assertThat(properties.get("StartingPosition")).isEqualTo("TRIM_HORIZON");
            assertThat(((Map<?, ?>) ((Map<?, ?>) properties.get("DestinationConfig")).get("OnFailure")).get("Destination"))
                    .isNotNull();
        }
        assertThat(groups).containsExactlyInAnyOrder("backbeat-replication-aws-location", "backbeat-replication-zenko");
        template.hasResourceProperties("AWS::Lambda::EventSourceMapping", Match.objectLike(Map.of(
                "Topics", List.of(KafkaCluster.STATUS_TOPIC),
                "AmazonManagedKafkaEventSourceConfig", Map.of("ConsumerGroupId", KafkaCluster.STATUS_CONSUMER_GROUP))));
    }

    /**
     * Issue 29: verify of big buckets by S3 Inventory reports. The source bucket gets an inventory configuration (CSV, all
     * versions, the fields verify compares) delivered to a bucket of the stack that S3 alone may write to; the site bucket
     * in another Region gets none (S3 delivers to a bucket in the listed bucket's Region); the verifier is told where.
     */
    @Test
    void theSourceBucketGetsAnInventoryConfigurationThatTheVerifierReads() throws Exception {
        var template = synthesized.template();
        List<Object> buckets = new ArrayList<>();
        for (Object resource : template.findResources("Custom::AWS").values()) {
            var create = new com.fasterxml.jackson.databind.ObjectMapper().readTree(joinWithPlaceholders(
                    ((Map<?, ?>) ((Map<?, ?>) resource).get("Properties")).get("Create")));
            if (!create.path("action").asText().equals("putBucketInventoryConfiguration")) {
                continue;
            }
            buckets.add(create.path("parameters").path("Bucket").asText());
            var configuration = create.path("parameters").path("InventoryConfiguration");
            assertThat(configuration.path("IncludedObjectVersions").asText()).isEqualTo("All");
            assertThat(configuration.path("Destination").path("S3BucketDestination").path("Format").asText()).isEqualTo("CSV");
            assertThat(configuration.path("OptionalFields").toString()).contains("Size", "LastModifiedDate", "ETag");
            assertThat(configuration.path("Schedule").path("Frequency").asText()).isEqualTo("Weekly");
        }
        assertThat(buckets).containsExactly("source-bucket");
        template.hasResourceProperties("AWS::S3::BucketPolicy", Match.objectLike(Map.of("PolicyDocument", Map.of("Statement",
                Match.arrayWith(List.of(Match.objectLike(Map.of("Principal", Map.of("Service", "s3.amazonaws.com"),
                        "Action", "s3:PutObject"))))))));
        BackbeatConfig verifier = null;
        for (Object function : template.findResources("AWS::Lambda::Function", Match.objectLike(Map.of("Properties",
                Map.of("Handler", BackbeatStack.VERIFIER_HANDLER)))).values()) {
            Map<?, ?> variables = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) function).get("Properties")).get("Environment")).get("Variables");
            verifier = BackbeatConfig.parse(joinWithPlaceholders(variables.get("BACKBEAT_CONFIG_JSON")));
        }
        assertThat(verifier).isNotNull();
        assertThat(verifier.ops().verifyInventory().fromVersions()).isEqualTo(5_000_000);
        assertThat(verifier.ops().verifyInventory().source()).startsWith("s3://").endsWith("/inventories");
        assertThat(verifier.ops().verifyInventory().sites()).isEmpty();
    }

    @Test
    void eachReplicatorKnowsItsSite() {
        for (String site : List.of("aws-location", "zenko")) {
            synthesized.template().hasResourceProperties("AWS::Lambda::Function", Match.objectLike(Map.of(
                    "Handler", BackbeatStack.REPLICATOR_HANDLER,
                    "Environment", Map.of("Variables", Match.objectLike(Map.of("BACKBEAT_SITE", site))))));
        }
    }

    /** Issue 31: the status function, which plans each transient failure's automatic retry, knows the site's schedule. */
    @Test
    void theStatusFunctionKnowsEachSitesAutomaticRetrySchedule() {
        String status = synthesized.template().findResources("AWS::Lambda::Function").values().stream().map(String::valueOf)
                .filter(f -> f.contains(BackbeatStack.STATUS_HANDLER)).findFirst().orElseThrow();
        assertThat(status).contains("\"autoRetrySeconds\":[30,600]");
    }

    /** Issue 31: the site's replicator knows its bandwidth limit, which each of its invocations shares (per partition). */
    @Test
    void theReplicatorOfACappedSiteKnowsItsBandwidthLimit() {
        String replicator = synthesized.template().findResources("AWS::Lambda::Function").values().stream().map(String::valueOf)
                .filter(f -> f.contains(BackbeatStack.REPLICATOR_HANDLER) && f.contains("BACKBEAT_SITE=aws-location")).findFirst().orElseThrow();
        assertThat(replicator).contains("\"maxBytesPerSecond\":20000000");
    }

    /** Issue 16: a browser can load the console (no auth on its static files), every API route needs IAM. */
    @Test
    @SuppressWarnings("unchecked")
    void theConsolesFilesAreOpenAndEveryApiRouteNeedsIam() {
        synthesized.template().resourceCountIs("AWS::Lambda::Url", 0);
        synthesized.template().resourceCountIs("AWS::ApiGatewayV2::Api", 1);
        Map<String, String> authByRoute = new java.util.TreeMap<>();
        synthesized.template().findResources("AWS::ApiGatewayV2::Route").values().forEach(route -> {
            Map<String, Object> properties = (Map<String, Object>) ((Map<String, Object>) route).get("Properties");
            authByRoute.put((String) properties.get("RouteKey"), (String) properties.get("AuthorizationType"));
        });
        assertThat(authByRoute).containsExactlyInAnyOrderEntriesOf(Map.of(
                "ANY /{proxy+}", "AWS_IAM",
                "GET /console", "NONE",
                "GET /console/aws4fetch-1.0.20.esm.mjs", "NONE",
                "GET /favicon.ico", "NONE"));
        synthesized.template().hasResourceProperties("AWS::ApiGatewayV2::Stage", Match.objectLike(Map.of(
                "StageName", "$default", "AutoDeploy", true,
                "AccessLogSettings", Match.objectLike(Map.of("DestinationArn", Match.anyValue())))));
        synthesized.template().hasOutput("OpsUrl", Match.objectLike(Map.of("Value", Match.anyValue())));
    }

    @Test
    void everyTableIsOnDemandEncryptedAndRecoverable() {
        var tables = synthesized.template().findResources("AWS::DynamoDB::Table");
        assertThat(tables).hasSize(7);
        for (Object table : tables.values()) {
            Map<?, ?> properties = (Map<?, ?>) ((Map<?, ?>) table).get("Properties");
            assertThat(properties.get("BillingMode")).isEqualTo("PAY_PER_REQUEST");
            assertThat(((Map<?, ?>) properties.get("SSESpecification")).get("SSEEnabled")).isEqualTo(true);
            assertThat(((Map<?, ?>) properties.get("PointInTimeRecoverySpecification")).get("PointInTimeRecoveryEnabled"))
                    .isEqualTo(true);
        }
        synthesized.template().hasResourceProperties("AWS::DynamoDB::Table", Match.objectLike(Map.of(
                "KeySchema", List.of(Map.of("AttributeName", "site", "KeyType", "HASH"),
                        Map.of("AttributeName", "failureKey", "KeyType", "RANGE")),
                "GlobalSecondaryIndexes", List.of(Match.objectLike(Map.of("IndexName", "byVersion",
                        "Projection", Map.of("ProjectionType", "ALL")))),
                "TimeToLiveSpecification", Map.of("AttributeName", "expiresAt", "Enabled", true))));
        synthesized.template().hasResourceProperties("AWS::DynamoDB::Table", Match.objectLike(Map.of(
                "KeySchema", List.of(Map.of("AttributeName", "site", "KeyType", "HASH"),
                        Map.of("AttributeName", "period", "KeyType", "RANGE")),
                "TimeToLiveSpecification", Map.of("AttributeName", "expiresAt", "Enabled", true))));
    }

    @Test
    void kafkaIsServerlessWithIamAuthAndBothTopics() {
        var template = synthesized.template();
        template.hasResourceProperties("AWS::MSK::ServerlessCluster", Match.objectLike(Map.of(
                "ClientAuthentication", Map.of("Sasl", Map.of("Iam", Map.of("Enabled", true))))));
        // Issue 35: MSK's topic APIs (AWS::MSK::Topic) do not exist for Serverless clusters: a custom resource creates them
        // with Kafka's admin client, from a function in the VPC allowed to create these two topics and nothing else.
        template.resourceCountIs("AWS::MSK::Topic", 0);
        template.hasResourceProperties("Custom::KafkaTopics", Match.objectLike(Map.of(
                "IamAuth", "true",
                "Topics", List.of(Map.of("Name", KafkaCluster.REPLICATION_TOPIC, "Partitions", "8"),
                        Map.of("Name", KafkaCluster.STATUS_TOPIC, "Partitions", "8")))));
        template.hasResourceProperties("AWS::Lambda::Function", Match.objectLike(Map.of(
                "Handler", BackbeatStack.TOPICS_HANDLER, "VpcConfig", Match.anyValue())));
        String topicsPolicy = template.findResources("AWS::IAM::Policy").values().stream().map(String::valueOf)
                .filter(p -> p.contains("PolicyName=KafkaTopics")).findFirst().orElseThrow();
        assertThat(topicsPolicy).contains("kafka-cluster:CreateTopic").contains("/backbeat-replication]]}").doesNotContain("kafka-cluster:*");
        // Every MSK trigger waits for the topics.
        template.findResources("AWS::Lambda::EventSourceMapping").values().forEach(mapping ->
                assertThat(String.valueOf(((Map<?, ?>) mapping).get("DependsOn"))).contains("KafkaTopics"));
    }

    /** Issue 35: the HTTP API's access log uses HTTP API variables only ($context.resourcePath is a REST API one). */
    @Test
    @SuppressWarnings("unchecked")
    void theOpsApisAccessLogUsesHttpApiVariablesOnly() throws Exception {
        Map<String, Object> stage = (Map<String, Object>) synthesized.template().findResources("AWS::ApiGatewayV2::Stage").values().iterator().next();
        String format = String.valueOf(((Map<String, Object>) ((Map<String, Object>) stage.get("Properties")).get("AccessLogSettings")).get("Format"));
        // The variables of the API Gateway Developer Guide's http-api-logging-variables page this format uses.
        java.util.Set<String> httpApiVariables = java.util.Set.of("requestId", "requestTime", "identity.sourceIp", "identity.caller",
                "identity.user", "identity.userArn", "httpMethod", "routeKey", "path", "protocol", "status", "responseLength",
                "responseLatency", "integrationStatus", "integrationErrorMessage", "error.message");
        var used = java.util.regex.Pattern.compile("\\$context\\.([A-Za-z.]+)").matcher(format).results().map(m -> m.group(1)).toList();
        assertThat(used).isNotEmpty().allSatisfy(variable -> assertThat(httpApiVariables).contains(variable)).doesNotContain("resourcePath");
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(format.replaceAll("\\$context\\.[A-Za-z.]+", "x")))
                .as("a JSON line").isNotNull();
    }

    /** Issue 35: an AWS S3 source is read through its event notifications, which the populator may receive and delete. */
    @Test
    void thePopulatorReadsTheS3EventsFeedItIsGiven() {
        var template = synthesized.template();
        String populator = String.valueOf(template.findResources("AWS::ECS::TaskDefinition"));
        assertThat(populator).contains("\"feed\":{\"type\":\"s3-events-sqs\",\"url\":\"");
        String taskPolicy = template.findResources("AWS::IAM::Policy").values().stream()
                .filter(p -> String.valueOf(p).contains("PolicyName=PopulatorTaskTaskRole"))
                .map(p -> String.valueOf(((Map<?, ?>) ((Map<?, ?>) p).get("Properties")).get("PolicyDocument"))).findFirst().orElseThrow();
        assertThat(taskPolicy).contains("sqs:ReceiveMessage").contains("sqs:DeleteMessage").contains("SourceChanges")
                .doesNotContain("s3:ListAllMyBuckets").doesNotContain("dynamodb:BatchWriteItem");
        // New versions, delete markers and tag changes; a dead-letter queue with an alarm.
        String notifications = String.valueOf(template.findResources("Custom::S3BucketNotifications"));
        assertThat(notifications).contains("s3:ObjectCreated:*").contains("s3:ObjectRemoved:DeleteMarkerCreated").contains("s3:ObjectTagging:*");
        template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of("MetricName", "ApproximateNumberOfMessagesVisible",
                "Dimensions", List.of(Map.of("Name", "QueueName", "Value", Map.of("Fn::GetAtt", List.of(
                        Match.stringLikeRegexp("SourceChangesDeadLetters.*"), "QueueName")))))));
        template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
                "MetricName", "PopulatorSecondsSinceLastBatch", "Dimensions", List.of(Map.of("Name", "Feed", "Value", "s3-events-sqs")))));
        // Issue 28: the ops API counts the queue and its dead letters, and moves the dead letters back (a message move task).
        String opsPolicy = template.findResources("AWS::IAM::Policy").values().stream().map(String::valueOf)
                .filter(p -> p.contains("PolicyName=OpsServiceRoleDefaultPolicy")).findFirst().orElseThrow();
        assertThat(opsPolicy).contains("Action=[sqs:GetQueueAttributes, sqs:SendMessage], Effect=Allow, Resource={Fn::GetAtt=[SourceChanges")
                .contains("Action=[sqs:GetQueueUrl, sqs:GetQueueAttributes, sqs:StartMessageMoveTask, sqs:ListMessageMoveTasks, "
                        + "sqs:ReceiveMessage, sqs:DeleteMessage], Effect=Allow, Resource={Fn::GetAtt=[SourceChangesDeadLetters");
    }

    /**
     * Issue 35: a batch an MSK trigger gives up on lands with its records in an S3 bucket (SQS and SNS destinations get
     * only its offsets), which the functions may write and nothing else, and each such object raises an alarm.
     */
    @Test
    void failedTriggerBatchesKeepTheirRecordsInABucketThatAlarms() {
        var template = synthesized.template();
        template.findResources("AWS::Lambda::EventSourceMapping").values().forEach(mapping -> assertThat(String.valueOf(mapping))
                .contains("OnFailure={Destination={Fn::GetAtt=[TriggerFailuresBucket"));
        template.resourceCountIs("AWS::SQS::Queue", 2); // the source changes and their dead letters only
        template.hasResourceProperties("AWS::S3::Bucket", Match.objectLike(Map.of(
                "BucketEncryption", Match.anyValue(),
                "PublicAccessBlockConfiguration", Map.of("BlockPublicAcls", true, "BlockPublicPolicy", true, "IgnorePublicAcls", true,
                        "RestrictPublicBuckets", true))));
        template.hasResourceProperties("AWS::Events::Rule", Match.objectLike(Map.of(
                "EventPattern", Match.objectLike(Map.of("source", List.of("aws.s3"), "detail-type", List.of("Object Created"))),
                "Targets", List.of(Match.objectLike(Map.of("Arn", Map.of("Ref", Match.stringLikeRegexp("MonitoringAlarms.*"))))))));
        String replicatorPolicy = template.findResources("AWS::IAM::Policy").values().stream().map(String::valueOf)
                .filter(p -> p.contains("PolicyName=ReplicatorawslocationServiceRole")).findFirst().orElseThrow();
        assertThat(replicatorPolicy).contains("Action=s3:PutObject, Effect=Allow, Resource={Fn::Join=[, [{Fn::GetAtt=[TriggerFailuresBucket")
                .doesNotContain("sqs:SendMessage");
    }

    /** Issue 35: CloudWatch alarms may publish to the alarm topic (its policy says so, for this account's alarms). */
    @Test
    void alarmsMayPublishToTheirTopic() {
        synthesized.template().hasResourceProperties("AWS::SNS::TopicPolicy", Match.objectLike(Map.of(
                "PolicyDocument", Match.objectLike(Map.of("Statement", Match.arrayWith(List.of(Match.objectLike(Map.of(
                        "Action", "sns:Publish", "Principal", Map.of("Service", "cloudwatch.amazonaws.com"),
                        "Condition", Map.of("StringEquals", Map.of("aws:SourceAccount", Map.of("Ref", "AWS::AccountId"))))))))))));
    }

    /**
     * Issue 35: the verifier may do what a run does: list every bucket (a run without one), and the uploads left in progress
     * at a site; and no grant is broader than the code's calls (no kafka:DescribeCluster, no GetEventSourceMapping).
     */
    @Test
    void grantsFollowWhatTheCodeCalls() {
        var policies = synthesized.template().findResources("AWS::IAM::Policy").values().stream().map(String::valueOf).toList();
        String verifier = policies.stream().filter(p -> p.contains("PolicyName=VerifierServiceRole")).findFirst().orElseThrow();
        assertThat(verifier).contains("s3:ListAllMyBuckets").contains("s3:ListBucketMultipartUploads");
        assertThat(String.join("\n", policies)).doesNotContain("kafka:DescribeCluster,").doesNotContain("kafka:DescribeCluster]")
                .doesNotContain("lambda:GetEventSourceMapping");
        String replicator = policies.stream().filter(p -> p.contains("PolicyName=ReplicatorawslocationServiceRole")).findFirst().orElseThrow();
        assertThat(replicator).contains("s3:ListBucketVersions").contains("s3:PutObjectVersionTagging").contains("s3:DeleteObjectVersionTagging");
        // Issue 30: a version's lock read at the source and written at the site; the source's and the replicas' KMS keys.
        assertThat(replicator).contains("s3:GetObjectRetention").contains("s3:GetObjectLegalHold").contains("s3:PutObjectRetention")
                .contains("s3:PutObjectLegalHold").contains("arn:aws:kms:us-west-2:111122223333:key/replica-key")
                .contains("arn:aws:kms:us-east-1:111122223333:key/source-key").contains("kms:GenerateDataKey");
        String zenko = policies.stream().filter(p -> p.contains("PolicyName=ReplicatorzenkoServiceRole")).findFirst().orElseThrow();
        assertThat(zenko).as("a site's key is its own replicator's").doesNotContain("replica-key");
        String ops = policies.stream().filter(p -> p.contains("PolicyName=OpsServiceRole")).findFirst().orElseThrow();
        assertThat(ops).as("the ops function never touches the checkpoints but to read them")
                .doesNotContainPattern("dynamodb:(PutItem|DeleteItem|UpdateItem|Scan)[^}]*TablesCheckpoints");
    }

    /** Issue 33: the triggers' provisioned pollers, when the deployment asks for them, on every MSK trigger. */
    @Test
    void theTriggersKeepTheProvisionedPollersTheDeploymentAsksFor() {
        var triggers = synthesized.template().findResources("AWS::Lambda::EventSourceMapping");
        assertThat(triggers).hasSizeGreaterThanOrEqualTo(3);
        triggers.forEach((id, trigger) -> assertThat(((Map<?, ?>) trigger.get("Properties")).get("ProvisionedPollerConfig")).as(id)
                .isEqualTo(Map.of("MinimumPollers", 1, "MaximumPollers", 8)));
        assertThat(new DeploymentConfig.EventSource(100, 1).provisionedPollers()).as("on-demand by default").isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DeploymentConfig.EventSource(100, 1, 0, 10))
                .hasMessage("eventSource.minimumPollers must be 1 to 200 with provisioned pollers, not 0");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DeploymentConfig.EventSource(100, 1, 5, 2))
                .hasMessage("eventSource.maximumPollers must be from minimumPollers (5) to 2000, not 2");
    }

    /**
     * Issue 33: SnapStart on the functions callers invoke (the replicators, the status processor, ops, verify), each
     * through its alias "live" on a published version, which the triggers, the API's integration and the schedules
     * name: $LATEST has no snapshot.
     */
    @Test
    @SuppressWarnings("unchecked")
    void snapStartFunctionsAreInvokedThroughTheirLiveAlias() {
        var template = synthesized.template();
        var snapStarted = template.findResources("AWS::Lambda::Function", Match.objectLike(Map.of("Properties",
                Match.objectLike(Map.of("SnapStart", Map.of("ApplyOn", "PublishedVersions"))))));
        assertThat(snapStarted).hasSize(5);
        var aliases = template.findResources("AWS::Lambda::Alias", Match.objectLike(Map.of("Properties", Match.objectLike(Map.of("Name", "live")))));
        assertThat(aliases).hasSize(5);
        template.findResources("AWS::Lambda::EventSourceMapping").forEach((id, trigger) ->
                assertThat(aliases).as(id + " names an alias").containsKey(String.valueOf(
                        ((Map<String, Object>) ((Map<String, Object>) trigger.get("Properties")).get("FunctionName")).get("Ref"))));
        template.findResources("AWS::Scheduler::Schedule").forEach((id, schedule) -> {
            Map<String, Object> target = (Map<String, Object>) ((Map<String, Object>) schedule.get("Properties")).get("Target");
            assertThat(aliases).as(id + " targets an alias").containsKey(String.valueOf(((Map<String, Object>) target.get("Arn")).get("Ref")));
        });
        template.findResources("AWS::ApiGatewayV2::Integration").forEach((id, integration) ->
                assertThat(String.valueOf(((Map<String, Object>) integration.get("Properties")).get("IntegrationUri"))).as(id)
                        .containsAnyOf(aliases.keySet().toArray(String[]::new)));
    }

    /** Issue 33: Graviton, for every function (the handlers' and the CDK's own) and the populator's task. */
    @Test
    void ourFunctionsAndThePopulatorRunOnArm64() {
        var template = synthesized.template();
        var functions = template.findResources("AWS::Lambda::Function", Match.objectLike(Map.of("Properties",
                Match.objectLike(Map.of("Handler", Match.stringLikeRegexp("io\\.backbeatserverless\\..*"))))));
        assertThat(functions).hasSizeGreaterThanOrEqualTo(5);
        functions.forEach((id, function) -> assertThat(((Map<?, ?>) function.get("Properties")).get("Architectures")).as(id)
                .isEqualTo(List.of("arm64")));
        template.hasResourceProperties("AWS::ECS::TaskDefinition", Match.objectLike(Map.of(
                "RuntimePlatform", Map.of("CpuArchitecture", "ARM64", "OperatingSystemFamily", "LINUX"))));
    }

    @Test
    void populatorRunsOnFargateWithAHealthCheck() {
        var template = synthesized.template();
        template.hasResourceProperties("AWS::ECS::Service", Match.objectLike(Map.of(
                "LaunchType", "FARGATE", "DesiredCount", 1)));
        template.hasResourceProperties("AWS::ECS::TaskDefinition", Match.objectLike(Map.of(
                "ContainerDefinitions", List.of(Match.objectLike(Map.of(
                        "HealthCheck", Match.objectLike(Map.of("Command", List.of("CMD-SHELL",
                                Match.stringLikeRegexp(".*/_/health/liveness.*"))))))))));
    }

    @Test
    void dueResumesAreScheduledEveryMinuteWithTheirOwnRole() {
        synthesized.template().hasResourceProperties("AWS::Scheduler::Schedule", Match.objectLike(Map.of(
                "ScheduleExpression", "rate(1 minute)",
                "Target", Match.objectLike(Map.of("Input", BackbeatStack.RESUME_DUE_EVENT, "RoleArn", Match.anyValue())))));
        synthesized.template().hasResourceProperties("AWS::IAM::Policy", Match.objectLike(Map.of(
                "PolicyDocument", Map.of("Statement", List.of(Match.objectLike(Map.of(
                        "Action", "lambda:InvokeFunction", "Resource", Match.anyValue()))), "Version", "2012-10-17"),
                "Roles", List.of(Map.of("Ref", Match.stringLikeRegexp("DueResumeSchedulerRole.*"))))));
    }

    @Test
    void awsSourceChangesAreNotifiedToAnEncryptedQueue() {
        var template = synthesized.template();
        // The source bucket's (and the trigger failures bucket's own EventBridge switch).
        assertThat(String.valueOf(template.findResources("Custom::S3BucketNotifications"))).contains("BucketName=source-bucket");
        for (Object queue : template.findResources("AWS::SQS::Queue").values()) {
            Map<?, ?> properties = (Map<?, ?>) ((Map<?, ?>) queue).get("Properties");
            assertThat(properties.get("SqsManagedSseEnabled")).isEqualTo(true);
        }
    }

    @Test
    void alarmsCoverBacklogFailuresLatencyAndThePopulator() {
        var template = synthesized.template();
        for (String metric : List.of("OffsetLag", "Errors")) {
            assertThat(template.findResources("AWS::CloudWatch::Alarm", Match.objectLike(Map.of("Properties",
                    Match.objectLike(Map.of("MetricName", metric, "Namespace", "AWS/Lambda")))))).hasSizeGreaterThanOrEqualTo(2);
        }
        // Issue 16: latency and failures from S3 Replication's metrics (the status function's EMF lines), per site.
        for (String site : List.of("aws-location", "zenko")) {
            template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
                    "MetricName", "ReplicationLatency", "Namespace", "BackbeatServerless", "ExtendedStatistic", "p99",
                    "Dimensions", List.of(Map.of("Name", "Site", "Value", site)), "Threshold", 900)));
            template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
                    "MetricName", "OperationsFailedReplication", "Namespace", "BackbeatServerless", "Statistic", "Sum",
                    "Dimensions", List.of(Map.of("Name", "Site", "Value", site)))));
        }
        String dashboard = String.valueOf(template.findResources("AWS::CloudWatch::Dashboard"));
        for (String metric : List.of("ReplicationLatency", "OperationsPendingReplication", "BytesPendingReplication", "OperationsFailedReplication")) {
            assertThat(dashboard).as("the dashboard shows " + metric).contains(metric);
        }
        template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
                "MetricName", "RunningTaskCount", "ComparisonOperator", "LessThanThreshold", "Threshold", 1)));
        template.hasResourceProperties("AWS::CloudWatch::Alarm", Match.objectLike(Map.of(
                "MetricName", "PopulatorSecondsSinceLastBatch", "Namespace", "BackbeatServerless", "Threshold", 600,
                "TreatMissingData", "breaching")));
        template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    }

    @Test
    void verifyRunsAreWalkedByTheVerifierFunctionEveryMinute() {
        var template = synthesized.template();
        template.hasResourceProperties("AWS::Lambda::Function", Match.objectLike(Map.of(
                "Handler", BackbeatStack.VERIFIER_HANDLER, "Timeout", 900)));
        template.hasResourceProperties("AWS::Scheduler::Schedule", Match.objectLike(Map.of(
                "ScheduleExpression", "rate(1 minute)",
                "Target", Match.objectLike(Map.of("Input", "{\"action\":\"work\"}")))));
        template.hasResourceProperties("AWS::DynamoDB::Table", Match.objectLike(Map.of(
                "KeySchema", List.of(Map.of("AttributeName", "run", "KeyType", "HASH"), Map.of("AttributeName", "item", "KeyType", "RANGE")),
                "TimeToLiveSpecification", Map.of("AttributeName", "expiresAt", "Enabled", true))));
    }

    @Test
    void dataPermissionsAreScopedToResources() {
        List<String> violations = new ArrayList<>();
        for (var policy : synthesized.template().findResources("AWS::IAM::Policy").entrySet()) {
            Map<?, ?> document = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) policy.getValue()).get("Properties")).get("PolicyDocument");
            for (Object statement : (List<?>) document.get("Statement")) {
                Map<?, ?> s = (Map<?, ?>) statement;
                List<?> actions = s.get("Action") instanceof List<?> list ? list : List.of(s.get("Action"));
                List<?> resources = s.get("Resource") instanceof List<?> list ? list : List.of(s.get("Resource"));
                for (Object action : actions) {
                    String a = action.toString();
                    boolean dataAction = a.startsWith("s3:") || a.startsWith("dynamodb:") || a.startsWith("kafka-cluster:");
                    if (a.contains("*") && (dataAction || a.equals("*"))) {
                        violations.add(policy.getKey() + ": wildcard action " + a);
                    }
                    if (dataAction && !a.equals("s3:ListAllMyBuckets") && !a.equals("s3:PutBucketNotification")
                            && resources.contains("*")) {
                        violations.add(policy.getKey() + ": " + a + " on every resource");
                    }
                }
            }
        }
        assertThat(violations).isEmpty();
    }

    /** Issue 13: a copy cut short by the deadline saves its progress (checkpoints table) and puts its entry back on the topic. */
    @Test
    void replicatorsMaySaveCopyProgressAndPutEntriesBack() {
        List<String> replicatorPolicies = synthesized.template().findResources("AWS::IAM::Policy").values().stream()
                .map(String::valueOf).filter(p -> p.contains("PolicyName=Replicator")).toList();
        assertThat(replicatorPolicies).as("one policy per replicator role").hasSize(2);
        assertThat(replicatorPolicies).allSatisfy(p -> {
            assertThat(p).contains("dynamodb:PutItem").contains("dynamodb:BatchGetItem").contains("TablesCheckpoints");
            assertThat(p).contains("kafka-cluster:WriteData").contains("/backbeat-replication]]}");
        });
        Map<?, ?> checkpoints = (Map<?, ?>) synthesized.template().findResources("AWS::DynamoDB::Table").entrySet().stream()
                .filter(e -> e.getKey().contains("Checkpoints")).findFirst().orElseThrow().getValue();
        assertThat(String.valueOf(((Map<?, ?>) checkpoints.get("Properties")).get("TimeToLiveSpecification")))
                .as("a copy's progress expires").contains("AttributeName=expiresAt").contains("Enabled=true");
    }

    /** Issue 16: stores' keys are read from their secret at run time; no function or task has them in its environment. */
    @Test
    void noSecretIsInAnyEnvironmentAndItsReadersMayReadIt() {
        String zenkoSecret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:zenko-AbCdEf";
        var template = synthesized.template();
        String environments = String.valueOf(template.findResources("AWS::Lambda::Function").values())
                + template.findResources("AWS::ECS::TaskDefinition").values();
        assertThat(environments).doesNotContain("resolve:secretsmanager").doesNotContain("secretAccessKey")
                .contains("\"credentialsSecret\":\"" + zenkoSecret + "\"");
        List<String> readers = template.findResources("AWS::IAM::Policy").entrySet().stream()
                .filter(e -> String.valueOf(e.getValue()).contains("secretsmanager:GetSecretValue"))
                .map(e -> String.valueOf(e.getValue())).toList();
        assertThat(readers).as("the zenko replicator and the verifier").hasSize(2)
                .allSatisfy(p -> assertThat(p).contains(zenkoSecret));
    }

    /** Issue 16: failures and missed thresholds go onto the default bus, and a rule sends them to the alarm topic. */
    @Test
    @SuppressWarnings("unchecked")
    void replicationEventsGoToTheDefaultBusAndOnToTheAlarmTopic() throws Exception {
        synthesized.template().hasResourceProperties("AWS::Events::Rule", Match.objectLike(Map.of(
                "EventPattern", Map.of("source", List.of("backbeat-serverless"),
                        "detail-type", List.of("OperationFailedReplication", "OperationMissedThreshold")),
                "Targets", List.of(Match.objectLike(Map.of("Arn", Map.of("Ref", Match.stringLikeRegexp("MonitoringAlarms.*"))))))));
        List<String> statusPolicies = synthesized.template().findResources("AWS::IAM::Policy").values().stream()
                .map(String::valueOf).filter(p -> p.contains("PolicyName=StatusProcessor")).toList();
        assertThat(statusPolicies).singleElement().satisfies(p -> assertThat(p).contains("events:PutEvents").contains(":event-bus/default"));
        Map<String, Object> status = synthesized.template().findResources("AWS::Lambda::Function").values().stream()
                .map(f -> (Map<String, Object>) f).filter(f -> String.valueOf(f).contains("Handler=" + BackbeatStack.STATUS_HANDLER))
                .findFirst().orElseThrow();
        String config = String.valueOf(((Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) status.get("Properties"))
                .get("Environment")).get("Variables")).get("BACKBEAT_CONFIG_JSON"));
        assertThat(config).contains("\"events\":{\"eventBusName\":\"default\",\"thresholdMinutes\":15}");
    }

    /** Issue 12: a version retried late reads the status table (are its key's newer markers replicated?), never writes it. */
    @Test
    @SuppressWarnings("unchecked")
    void replicatorsReadTheStatusTableButNeverWriteIt() {
        List<Map<String, Object>> replicatorPolicies = synthesized.template().findResources("AWS::IAM::Policy").values().stream()
                .filter(p -> String.valueOf(p).contains("PolicyName=Replicator")).toList();
        assertThat(replicatorPolicies).hasSize(2).allSatisfy(policy -> {
            Map<String, Object> document = (Map<String, Object>) ((Map<String, Object>) policy.get("Properties")).get("PolicyDocument");
            List<Map<String, Object>> onStatus = ((List<Map<String, Object>>) document.get("Statement")).stream()
                    .filter(statement -> String.valueOf(statement.get("Resource")).contains("TablesReplicationStatus")).toList();
            assertThat(onStatus).hasSize(1);
            assertThat(String.valueOf(onStatus.get(0).get("Action"))).contains("dynamodb:BatchGetItem")
                    .doesNotContain("PutItem").doesNotContain("UpdateItem").doesNotContain("DeleteItem");
        });
    }

    @Test
    void theStackSaysHowDestinationBucketsAbortUploadsLeftIncomplete() {
        Map<String, Map<String, Object>> outputs = synthesized.template().findOutputs("AbortIncompleteUploadsCommand");
        assertThat(outputs).hasSize(1);
        String command = String.valueOf(outputs.values().iterator().next().get("Value"));
        assertThat(command).startsWith("aws s3api put-bucket-lifecycle-configuration --bucket replica-bucket ")
                .contains("\"AbortIncompleteMultipartUpload\":{\"DaysAfterInitiation\":2}");
    }

    @Test
    void kafkaPermissionsNameTheTopicAndTheSitesConsumerGroup() {
        List<String> groupResources = new ArrayList<>();
        for (var policy : synthesized.template().findResources("AWS::IAM::Policy").values()) {
            Map<?, ?> document = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) policy).get("Properties")).get("PolicyDocument");
            for (Object statement : (List<?>) document.get("Statement")) {
                Map<?, ?> s = (Map<?, ?>) statement;
                if (String.valueOf(s.get("Action")).contains("kafka-cluster:AlterGroup")) {
                    groupResources.add(String.valueOf(s.get("Resource")));
                }
            }
        }
        // Replicators of both sites and the status processor, each on its own group only.
        assertThat(groupResources).hasSize(3);
        assertThat(groupResources).anySatisfy(r -> assertThat(r).contains(":group/Backbeat-kafka/").endsWith("/backbeat-replication-aws-location]]}"));
        assertThat(groupResources).anySatisfy(r -> assertThat(r).endsWith("/backbeat-replication-zenko]]}"));
        assertThat(groupResources).anySatisfy(r -> assertThat(r).endsWith("/" + KafkaCluster.STATUS_CONSUMER_GROUP + "]]}"));
    }

    @Test
    void functionsGetAConfigurationTheirParserAccepts() {
        for (Object function : synthesized.template().findResources("AWS::Lambda::Function", Match.objectLike(Map.of(
                "Properties", Match.objectLike(Map.of("Runtime", "java21", "Environment", Map.of("Variables",
                        Match.objectLike(Map.of("BACKBEAT_CONFIG_JSON", Match.anyValue())))))))).values()) {
            Map<?, ?> variables = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) function).get("Properties"))
                    .get("Environment")).get("Variables");
            // The JSON with CloudFormation's placeholders in it: Fn::Join pieces joined with stand-ins.
            BackbeatConfig config = BackbeatConfig.parse(joinWithPlaceholders(variables.get("BACKBEAT_CONFIG_JSON")));
            assertThat(config.siteNames()).containsExactly("aws-location", "zenko");
            assertThat(config.replicator().keyConcurrency()).as("functions.replicatorKeyConcurrency, the scale plan's knob").isEqualTo(32);
        }
    }

    @Test
    void cdkNagReportsNoUnsuppressedError() {
        var errors = Annotations.fromStack(synthesized.stack())
                .findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
        assertThat(errors.stream().map(e -> e.getId() + ": " + e.getEntry().getData()).toList()).isEmpty();
    }

    /** A string value of the template: literal, or an Fn::Join whose tokens become placeholder text. */
    private static String joinWithPlaceholders(Object value) {
        if (value instanceof String s) {
            return s;
        }
        Map<?, ?> join = (Map<?, ?>) value;
        List<?> args = (List<?>) join.get("Fn::Join");
        StringBuilder text = new StringBuilder();
        for (Object part : (List<?>) args.get(1)) {
            text.append(part instanceof String s ? s : "placeholder");
        }
        return text.toString();
    }
}
