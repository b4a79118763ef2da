package io.backbeatserverless.infra;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import io.github.cdklabs.cdknag.RegexAppliesTo;
import software.amazon.awscdk.Aws;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.ec2.FlowLogOptions;
import software.amazon.awscdk.services.ec2.FlowLogTrafficType;
import software.amazon.awscdk.services.ec2.GatewayVpcEndpointAwsService;
import software.amazon.awscdk.services.ec2.GatewayVpcEndpointOptions;
import software.amazon.awscdk.services.ec2.Port;
import software.amazon.awscdk.services.ec2.SecurityGroup;
import software.amazon.awscdk.services.ec2.SubnetConfiguration;
import software.amazon.awscdk.services.ec2.SubnetSelection;
import software.amazon.awscdk.services.ec2.SubnetType;
import software.amazon.awscdk.services.ec2.Vpc;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.ecr.assets.Platform;
import software.amazon.awscdk.services.ecs.AssetImageProps;
import software.amazon.awscdk.services.ecs.AwsLogDriverProps;
import software.amazon.awscdk.services.ecs.Cluster;
import software.amazon.awscdk.services.ecs.ContainerDefinitionOptions;
import software.amazon.awscdk.services.ecs.ContainerImage;
import software.amazon.awscdk.services.ecs.ContainerInsights;
import software.amazon.awscdk.services.ecs.DeploymentCircuitBreaker;
import software.amazon.awscdk.services.ecs.FargateService;
import software.amazon.awscdk.services.ecs.FargateTaskDefinition;
import software.amazon.awscdk.services.ecs.HealthCheck;
import software.amazon.awscdk.services.ecs.LogDriver;
import software.amazon.awscdk.services.iam.IGrantable;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.iam.ServicePrincipalOpts;
import software.amazon.awscdk.services.lambda.CfnEventSourceMapping;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.lambda.Runtime;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.s3.EventType;
import software.amazon.awscdk.services.s3.notifications.SqsDestination;
import software.amazon.awscdk.services.scheduler.CfnSchedule;
import software.amazon.awscdk.services.sqs.DeadLetterQueue;
import software.amazon.awscdk.services.sqs.Queue;
import software.amazon.awscdk.services.sqs.QueueEncryption;
import software.constructs.Construct;
import software.constructs.IConstruct;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Backbeat Serverless in one AWS account and region: MSK in a VPC of its own, the populator on ECS
 * Fargate, a replicator function and MSK trigger per site, the status and ops functions, the tables,
 * the scheduled resumes, alarms and a dashboard. Environment-agnostic: nothing is looked up at synth.
 */
public final class BackbeatStack extends Stack {

    static final String REPLICATOR_HANDLER = "io.backbeatserverless.replicator.ReplicatorHandler::handleRequest";
    static final String STATUS_HANDLER = "io.backbeatserverless.status.StatusHandler::handleRequest";
    static final String OPS_HANDLER = "io.backbeatserverless.ops.OpsHandler::handleRequest";
    static final String VERIFIER_HANDLER = "io.backbeatserverless.verifier.VerifierHandler::handleRequest";
    /** The populator's health server (PopulatorMain), inside its container. */
    static final int POPULATOR_HEALTH_PORT = 8901;
    /** A Function URL (payload 2.0) request for the route that resumes sites whose scheduled resume is due. */
    static final String RESUME_DUE_EVENT = "{\"version\":\"2.0\",\"rawPath\":\"/_/crr/resume/due\",\"rawQueryString\":\"\","
            + "\"requestContext\":{\"http\":{\"method\":\"POST\"}},\"isBase64Encoded\":false}";

    private final DeploymentConfig deployment;

    public BackbeatStack(Construct scope, String id, StackProps props, DeploymentConfig deployment, DeploymentAssets assets) {
        super(scope, id, props);
        this.deployment = deployment;

        Vpc vpc = Vpc.Builder.create(this, "Vpc")
                .maxAzs(2)
                .natGateways(1) // MSK triggers reach Lambda and STS, replicators reach non-AWS sites
                .subnetConfiguration(List.of(
                        SubnetConfiguration.builder().name("public").subnetType(SubnetType.PUBLIC).cidrMask(24).build(),
                        SubnetConfiguration.builder().name("private").subnetType(SubnetType.PRIVATE_WITH_EGRESS).cidrMask(20).build()))
                .gatewayEndpoints(Map.of(
                        "S3", GatewayVpcEndpointOptions.builder().service(GatewayVpcEndpointAwsService.S3).build(),
                        "DynamoDb", GatewayVpcEndpointOptions.builder().service(GatewayVpcEndpointAwsService.DYNAMODB).build()))
                .flowLogs(Map.of("Rejected", FlowLogOptions.builder().trafficType(FlowLogTrafficType.REJECT).build()))
                .build();
        SubnetSelection privateSubnets = SubnetSelection.builder().subnetType(SubnetType.PRIVATE_WITH_EGRESS).build();

        // One group for the brokers and every client: MSK triggers require the cluster's group to admit itself.
        SecurityGroup kafkaPeers = SecurityGroup.Builder.create(this, "KafkaPeers").vpc(vpc)
                .description("MSK brokers and their clients (functions, MSK triggers, populator)")
                .allowAllOutbound(true).build();
        kafkaPeers.addIngressRule(kafkaPeers, Port.tcp(9098), "Kafka over TLS with IAM authentication, between peers");

        KafkaCluster kafka = new KafkaCluster(this, "Kafka", deployment.kafka(), vpc, kafkaPeers);
        BackbeatTables tables = new BackbeatTables(this, "Tables");
        RuntimeConfiguration runtimeConfiguration = new RuntimeConfiguration(deployment, Aws.REGION,
                kafka.bootstrapServers(), tables.names());

        Queue triggerFailures = encryptedQueueWithDeadLetters("TriggerFailures");

        DeploymentConfig.Functions sizes = deployment.functions();
        Map<String, Function> replicators = new LinkedHashMap<>();
        Map<String, CfnEventSourceMapping> replicatorTriggers = new LinkedHashMap<>();
        for (DeploymentConfig.Site site : deployment.sites()) {
            Function replicator = javaFunction("Replicator-" + site.name(), assets.replicatorJar().toString(), REPLICATOR_HANDLER,
                    sizes.replicatorMemoryMiB(), sizes.replicatorTimeoutSeconds(), vpc, privateSubnets, kafkaPeers,
                    Map.of("BACKBEAT_SITE", site.name(), "BACKBEAT_CONFIG_JSON", runtimeConfiguration.forReplicator(site.name())));
            replicator.getNode().addDependency(kafka);
            kafka.grantConsume(replicator, KafkaCluster.REPLICATION_TOPIC, site.consumerGroup());
            kafka.grantProduce(replicator, KafkaCluster.STATUS_TOPIC);
            // A copy cut short by the invocation's deadline saves its progress (checkpoints table) and puts its entry back.
            kafka.grantProduce(replicator, KafkaCluster.REPLICATION_TOPIC);
            tables.grantItemAccess(replicator, tables.checkpoints);
            // A version retried late asks whether the newer delete markers of its key are replicated already.
            tables.grantItemRead(replicator, tables.status);
            grantSourceRead(replicator);
            grantSiteWrite(replicator, site);
            grantSecretsRead(replicator, runtimeConfiguration.replicatorSecrets(site.name()));
            CfnEventSourceMapping trigger = mskTrigger("ReplicatorTrigger-" + site.name(), replicator, kafka,
                    KafkaCluster.REPLICATION_TOPIC, site.consumerGroup(), triggerFailures);
            replicators.put(site.name(), replicator);
            replicatorTriggers.put(site.name(), trigger);
        }

        Function statusProcessor = javaFunction("StatusProcessor", assets.statusJar().toString(), STATUS_HANDLER,
                sizes.statusMemoryMiB(), 300, vpc, privateSubnets, kafkaPeers,
                Map.of("BACKBEAT_CONFIG_JSON", runtimeConfiguration.forStatusProcessor()));
        statusProcessor.getNode().addDependency(kafka);
        kafka.grantConsume(statusProcessor, KafkaCluster.STATUS_TOPIC, KafkaCluster.STATUS_CONSUMER_GROUP);
        tables.grantItemAccess(statusProcessor, tables.status, tables.failedEntries, tables.metrics);
        grantSecretsRead(statusProcessor, runtimeConfiguration.sourceSecrets());
        statusProcessor.addToRolePolicy(PolicyStatement.Builder.create().actions(List.of("events:PutEvents"))
                .resources(List.of("arn:" + Aws.PARTITION + ":events:" + Aws.REGION + ":" + Aws.ACCOUNT_ID + ":event-bus/"
                        + RuntimeConfiguration.EVENT_BUS)).build());
        mskTrigger("StatusTrigger", statusProcessor, kafka, KafkaCluster.STATUS_TOPIC, KafkaCluster.STATUS_CONSUMER_GROUP,
                triggerFailures);

        Map<String, String> mappingBySite = new LinkedHashMap<>();
        replicatorTriggers.forEach((site, trigger) -> mappingBySite.put(site, trigger.getRef()));
        Function ops = javaFunction("Ops", assets.opsJar().toString(), OPS_HANDLER, sizes.opsMemoryMiB(), 60, vpc, privateSubnets,
                kafkaPeers, Map.of("BACKBEAT_CONFIG_JSON", runtimeConfiguration.forOps(mappingBySite)));
        ops.getNode().addDependency(kafka);
        tables.grantItemAccess(ops, tables.all().toArray(Table[]::new));
        kafka.grantProduce(ops, KafkaCluster.REPLICATION_TOPIC); // retries re-publish entries
        kafka.grantDescribeTopics(ops);
        ops.addToRolePolicy(PolicyStatement.Builder.create()
                .actions(List.of("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"))
                .resources(replicatorTriggers.values().stream().map(trigger -> "arn:" + Aws.PARTITION + ":lambda:" + Aws.REGION
                        + ":" + Aws.ACCOUNT_ID + ":event-source-mapping:" + trigger.getRef()).toList())
                .build());
        OpsEndpoint opsEndpoint = new OpsEndpoint(this, "OpsEndpoint", ops);
        scheduleDueResumes(ops);

        Function verifier = javaFunction("Verifier", assets.verifierJar().toString(), VERIFIER_HANDLER, sizes.opsMemoryMiB(), 900,
                vpc, privateSubnets, kafkaPeers, Map.of("BACKBEAT_CONFIG_JSON", runtimeConfiguration.forVerifier()));
        verifier.getNode().addDependency(kafka);
        tables.grantItemAccess(verifier, tables.status, tables.failedEntries, tables.metrics, tables.rules, tables.verify);
        kafka.grantProduce(verifier, KafkaCluster.REPLICATION_TOPIC); // repairs are queued as any entry
        grantSourceRead(verifier);
        grantSecretsRead(verifier, runtimeConfiguration.verifierSecrets());
        for (DeploymentConfig.Site site : deployment.sites()) {
            grantSiteRead(verifier, site);
        }
        scheduleVerify(verifier);

        FargateService populator = populatorService(vpc, privateSubnets, kafkaPeers, kafka, tables, assets, runtimeConfiguration);

        if (deployment.source().isAwsS3()) {
            notifySourceChanges();
        }

        new ReplicationMonitoring(this, "Monitoring", deployment, replicators, statusProcessor, ops, triggerFailures, populator);

        CfnOutput.Builder.create(this, "OpsUrl").value(opsEndpoint.url())
                .description("The ops API (SigV4-signed, service execute-api) and the console (<OpsUrl>console)").build();
        CfnOutput.Builder.create(this, "OpsFunctionName").value(ops.getFunctionName()).build();
        List<String> destinationBuckets = deployment.sites().stream().flatMap(site -> site.writableBuckets().stream()).distinct().sorted().toList();
        if (!destinationBuckets.isEmpty()) {
            // The stack does not own the destination buckets, so it does not change their lifecycle: it says how.
            CfnOutput.Builder.create(this, "AbortIncompleteUploadsCommand")
                    .description("Give each destination bucket a rule that aborts uploads left incomplete (docs/operations.md,"
                            + " 'Large objects and unfinished uploads'); merge it into an existing lifecycle configuration")
                    .value(String.join(" ; ", destinationBuckets.stream().map(bucket -> "aws s3api put-bucket-lifecycle-configuration --bucket "
                            + bucket + " --lifecycle-configuration '{\"Rules\":[{\"ID\":\"abort-incomplete-uploads\",\"Status\":\"Enabled\","
                            + "\"Filter\":{},\"AbortIncompleteMultipartUpload\":{\"DaysAfterInitiation\":2}}]}'").toList()))
                    .build();
        }
        CfnOutput.Builder.create(this, "KafkaClusterArn").value(kafka.clusterArn()).build();
        suppressFindingsOfGeneratedResources();
    }

    private Function javaFunction(String id, String jar, String handler, int memoryMiB, int timeoutSeconds, Vpc vpc,
                                  SubnetSelection subnets, SecurityGroup securityGroup, Map<String, String> environment) {
        LogGroup logs = LogGroup.Builder.create(this, id + "Logs").retention(RetentionDays.ONE_MONTH)
                .removalPolicy(RemovalPolicy.DESTROY).build();
        Function function = Function.Builder.create(this, id)
                // The project's target: Java 21 bytecode on Lambda's java21 runtime.
                .runtime(Runtime.JAVA_21)
                .handler(handler)
                .code(Code.fromAsset(jar))
                .memorySize(memoryMiB)
                .timeout(Duration.seconds(timeoutSeconds))
                .vpc(vpc).vpcSubnets(subnets).securityGroups(List.of(securityGroup))
                .environment(withLogging(environment, id))
                .logGroup(logs)
                .build();
        NagSuppressions.addResourceSuppressions(function, List.of(NagPackSuppression.builder()
                .id("AwsSolutions-L1")
                .reason("The functions are built for Lambda's java21 runtime (--release 21), the project's declared target; "
                        + "moving to a newer Java runtime is a deliberate upgrade, not a drift.")
                .build(), NagPackSuppression.builder()
                .id("AwsSolutions-IAM4")
                .reason("AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole only let the function write "
                        + "its logs and manage its own network interfaces, which Lambda needs for every VPC function.")
                .appliesTo(List.of("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"))
                .build()), true);
        return function;
    }

    /**
     * The JSON logs' settings (functions/log4j2-lambda.xml): the service name on every line (Powertools), our loggers
     * at INFO (BACKBEAT_LOG_LEVEL=DEBUG adds a line per version and stage, which an operator sets on one function while
     * tracing; POWERTOOLS_LOG_LEVEL is left unset: it would set the SDK's and Kafka's loggers too).
     */
    private static Map<String, String> withLogging(Map<String, String> environment, String function) {
        Map<String, String> all = new LinkedHashMap<>(environment);
        all.put("POWERTOOLS_SERVICE_NAME", "backbeat-" + function.toLowerCase(java.util.Locale.ROOT));
        all.put("BACKBEAT_LOG_LEVEL", "INFO");
        return all;
    }

    private CfnEventSourceMapping mskTrigger(String id, Function function, KafkaCluster kafka, String topic, String group,
                                             Queue onFailure) {
        onFailure.grantSendMessages(function);
        CfnEventSourceMapping trigger = CfnEventSourceMapping.Builder.create(this, id)
                .functionName(function.getFunctionArn())
                .eventSourceArn(kafka.clusterArn())
                .topics(List.of(topic))
                .amazonManagedKafkaEventSourceConfig(CfnEventSourceMapping.AmazonManagedKafkaEventSourceConfigProperty.builder()
                        .consumerGroupId(group).build())
                .batchSize(deployment.eventSource().batchSize())
                .maximumBatchingWindowInSeconds(deployment.eventSource().batchWindowSeconds())
                .startingPosition("TRIM_HORIZON")
                .destinationConfig(CfnEventSourceMapping.DestinationConfigProperty.builder()
                        .onFailure(CfnEventSourceMapping.OnFailureProperty.builder().destination(onFailure.getQueueArn()).build())
                        .build())
                .build();
        // The mapping checks its permissions when created: after the role's policy and the topics exist.
        trigger.getNode().addDependency(function);
        kafka.topics().forEach(t -> trigger.getNode().addDependency(t));
        return trigger;
    }

    /** EventBridge Scheduler calls the ops function each minute to resume the sites whose resume is due. */
    private void scheduleDueResumes(Function ops) {
        schedule("DueResumes", "POST /_/crr/resume/due on the ops function: resumes sites whose scheduled resume is due",
                "rate(1 minute)", ops, schedulerRole("DueResumeSchedulerRole", ops), RESUME_DUE_EVENT);
    }

    /** A role EventBridge Scheduler assumes to invoke {@code function}, and nothing else. */
    private Role schedulerRole(String id, Function function) {
        Role role = Role.Builder.create(this, id)
                .assumedBy(new ServicePrincipal("scheduler.amazonaws.com", ServicePrincipalOpts.builder()
                        .conditions(Map.of("StringEquals", Map.of("aws:SourceAccount", Aws.ACCOUNT_ID))).build()))
                .description("Lets EventBridge Scheduler invoke one function, and nothing else")
                .build();
        role.addToPolicy(PolicyStatement.Builder.create()
                .actions(List.of("lambda:InvokeFunction")).resources(List.of(function.getFunctionArn())).build());
        return role;
    }

    /**
     * Verify runs are walked by the verifier function, which EventBridge Scheduler invokes every minute (a run
     * the ops API started is taken up within a minute, and goes on across invocations, resuming after its last
     * saved step); with {@code verify.schedule} set, a second schedule starts runs of its own.
     */
    private void scheduleVerify(Function verifier) {
        Role schedulerRole = schedulerRole("VerifySchedulerRole", verifier);
        schedule("VerifyWork", "walks unfinished verify runs", "rate(1 minute)", verifier, schedulerRole, "{\"action\":\"work\"}");
        DeploymentConfig.Verify verify = deployment.verify();
        if (verify.schedule() != null) {
            ObjectNode start = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("action", "start")
                    .put("repair", verify.repair());
            verify.buckets().forEach(start.putArray("buckets")::add);
            schedule("VerifyStart", "starts verify runs (deployment's verify.schedule)", verify.schedule(), verifier, schedulerRole,
                    start.toString());
        }
    }

    private void schedule(String id, String what, String expression, Function target, Role role, String input) {
        CfnSchedule.Builder.create(this, id)
                .description(what)
                .scheduleExpression(expression)
                .flexibleTimeWindow(CfnSchedule.FlexibleTimeWindowProperty.builder().mode("OFF").build())
                .target(CfnSchedule.TargetProperty.builder()
                        .arn(target.getFunctionArn())
                        .roleArn(role.getRoleArn())
                        .input(input)
                        // A missed minute is made up by the next one; do not pile up retries.
                        .retryPolicy(CfnSchedule.RetryPolicyProperty.builder().maximumRetryAttempts(0).build())
                        .build())
                .build();
    }

    private FargateService populatorService(Vpc vpc, SubnetSelection subnets, SecurityGroup securityGroup, KafkaCluster kafka,
                                            BackbeatTables tables, DeploymentAssets assets, RuntimeConfiguration runtimeConfiguration) {
        Cluster cluster = Cluster.Builder.create(this, "PopulatorCluster").vpc(vpc)
                .containerInsightsV2(ContainerInsights.ENABLED).build();
        FargateTaskDefinition task = FargateTaskDefinition.Builder.create(this, "PopulatorTask")
                .cpu(deployment.populator().cpu()).memoryLimitMiB(deployment.populator().memoryMiB()).build();
        LogGroup logs = LogGroup.Builder.create(this, "PopulatorLogs").retention(RetentionDays.ONE_MONTH)
                .removalPolicy(RemovalPolicy.DESTROY).build();
        task.addContainer("populator", ContainerDefinitionOptions.builder()
                .image(ContainerImage.fromAsset(assets.populatorImageContext().toString(),
                        AssetImageProps.builder().platform(Platform.LINUX_AMD64).build()))
                .environment(withLogging(Map.of("BACKBEAT_CONFIG_JSON", runtimeConfiguration.forPopulator(),
                        "BACKBEAT_POPULATOR_HEALTH_PORT", Integer.toString(POPULATOR_HEALTH_PORT)), "Populator"))
                .logging(LogDriver.awsLogs(AwsLogDriverProps.builder().streamPrefix("populator").logGroup(logs).build()))
                .healthCheck(HealthCheck.builder()
                        .command(List.of("CMD-SHELL", "curl -fsS http://127.0.0.1:" + POPULATOR_HEALTH_PORT
                                + "/_/health/liveness || exit 1"))
                        .interval(Duration.seconds(30)).timeout(Duration.seconds(5)).retries(3)
                        .startPeriod(Duration.seconds(60))
                        .build())
                .build());
        kafka.grantProduce(task.getTaskRole(), KafkaCluster.REPLICATION_TOPIC);
        tables.grantItemAccess(task.getTaskRole(), tables.status, tables.checkpoints, tables.metrics, tables.rules);
        grantSourceRead(task.getTaskRole());
        grantSecretsRead(task.getTaskRole(), runtimeConfiguration.sourceSecrets());
        if (deployment.source().isAwsS3()) {
            // The listing feed finds replication-enabled buckets with ListBuckets, which takes no resource scope.
            task.getTaskRole().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .actions(List.of("s3:ListAllMyBuckets")).resources(List.of("*")).build());
        }
        FargateService service = FargateService.Builder.create(this, "Populator")
                .cluster(cluster).taskDefinition(task)
                // One populator: a second would publish the same versions again.
                .desiredCount(1).minHealthyPercent(0).maxHealthyPercent(100)
                .vpcSubnets(subnets).securityGroups(List.of(securityGroup))
                .circuitBreaker(DeploymentCircuitBreaker.builder().rollback(true).build())
                .build();
        service.getNode().addDependency(kafka);
        NagSuppressions.addResourceSuppressions(task, List.of(NagPackSuppression.builder()
                .id("AwsSolutions-ECS2")
                .reason("The environment holds the populator's configuration (endpoints, table names, brokers); stored "
                        + "credentials are CloudFormation dynamic references to Secrets Manager, not template values.")
                .build()), true);
        return service;
    }

    /** S3 event notifications of the AWS source buckets into a queue, for an event-driven change feed. */
    private void notifySourceChanges() {
        Queue sourceChanges = encryptedQueueWithDeadLetters("SourceChanges");
        SqsDestination destination = new SqsDestination(sourceChanges);
        for (String bucketName : deployment.source().buckets()) {
            var bucket = Bucket.fromBucketName(this, "Source-" + bucketName, bucketName);
            bucket.addEventNotification(EventType.OBJECT_CREATED, destination);
            bucket.addEventNotification(EventType.OBJECT_REMOVED, destination);
        }
        CfnOutput.Builder.create(this, "SourceChangesQueueUrl").value(sourceChanges.getQueueUrl())
                .description("S3 event notifications of the source buckets").build();
    }

    private Queue encryptedQueueWithDeadLetters(String id) {
        Queue deadLetters = Queue.Builder.create(this, id + "DeadLetters")
                .encryption(QueueEncryption.SQS_MANAGED).enforceSsl(true).retentionPeriod(Duration.days(14)).build();
        return Queue.Builder.create(this, id)
                .encryption(QueueEncryption.SQS_MANAGED).enforceSsl(true).retentionPeriod(Duration.days(14))
                .deadLetterQueue(DeadLetterQueue.builder().queue(deadLetters).maxReceiveCount(5).build())
                .build();
    }

    /** Reading the source's versions, tags and replication configuration (AWS S3 sources; others use keys). */
    private void grantSourceRead(IGrantable grantee) {
        if (!deployment.source().isAwsS3()) {
            return;
        }
        List<String> buckets = new ArrayList<>();
        List<String> objects = new ArrayList<>();
        for (String bucket : deployment.source().buckets()) {
            buckets.add(bucketArn(bucket));
            objects.add(bucketArn(bucket) + "/*");
        }
        grantee.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:ListBucket", "s3:ListBucketVersions", "s3:GetReplicationConfiguration"))
                .resources(buckets).build());
        grantee.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"))
                .resources(objects).build());
    }

    /** Writing replicas (data, tags, delete markers) to an AWS S3 site through the replicator's own role. */
    private void grantSiteWrite(IGrantable replicator, DeploymentConfig.Site site) {
        List<String> buckets = site.writableBuckets().stream().map(BackbeatStack::bucketArn).toList();
        if (buckets.isEmpty()) {
            return;
        }
        replicator.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:ListBucket")) // so that a missing replica is a 404, not a 403
                .resources(buckets).build());
        replicator.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectTagging",
                        "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"))
                .resources(buckets.stream().map(arn -> arn + "/*").toList()).build());
    }

    /** Reading replicas (verify) at an AWS S3 site through the function's own role. */
    private void grantSiteRead(IGrantable reader, DeploymentConfig.Site site) {
        List<String> buckets = site.writableBuckets().stream().map(BackbeatStack::bucketArn).toList();
        if (buckets.isEmpty()) {
            return;
        }
        reader.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:ListBucket", "s3:ListBucketVersions")).resources(buckets).build());
        reader.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"))
                .resources(buckets.stream().map(arn -> arn + "/*").toList()).build());
    }

    /**
     * Reading the stores' keys at run time from their secrets (the configuration names them, never holds them). A secret
     * encrypted with a customer managed key also needs kms:Decrypt on that key, granted where the key is defined.
     */
    private static void grantSecretsRead(IGrantable grantee, List<String> secretArns) {
        if (!secretArns.isEmpty()) {
            grantee.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .actions(List.of("secretsmanager:GetSecretValue")).resources(secretArns).build());
        }
    }

    private static String bucketArn(String bucket) {
        return "arn:" + Aws.PARTITION + ":s3:::" + bucket;
    }

    /**
     * cdk-nag findings that AWS or CDK leave no way around, each with its reason, each applied only to the
     * constructs it is about.
     */
    private void suppressFindingsOfGeneratedResources() {
        NagPackSuppression scopedWildcards = NagPackSuppression.builder()
                .id("AwsSolutions-IAM5")
                .reason("Object permissions are scoped to the objects of the configured buckets (arn:...:s3:::<bucket>/*). "
                        + "Resource * is only granted for actions without resource-level permissions: the MSK triggers' "
                        + "ec2:DescribeVpcs/DescribeSubnets/DescribeSecurityGroups, the populator's s3:ListAllMyBuckets "
                        + "and its execution role's ecr:GetAuthorizationToken.")
                .appliesTo(List.of(
                        RegexAppliesTo.builder().regex("/^Resource::arn:<AWS::Partition>:s3:::[^*/]+/\\*$/g").build(),
                        "Resource::*"))
                .build();
        for (IConstruct construct : getNode().findAll()) {
            if (construct instanceof Function || construct instanceof FargateTaskDefinition) {
                NagSuppressions.addResourceSuppressions(construct, List.of(scopedWildcards), true);
            }
        }
        // CDK's singleton functions: the MSK bootstrap brokers lookup (AwsCustomResource) and the S3
        // notification setup on buckets the stack does not own.
        for (IConstruct generated : getNode().getChildren()) {
            String id = generated.getNode().getId();
            if (id.startsWith("AWS679f53fac002430cb0da5b7982bd2287") || id.startsWith("BucketNotificationsHandler")) {
                NagSuppressions.addResourceSuppressions(generated, List.of(
                        NagPackSuppression.builder().id("AwsSolutions-IAM4")
                                .reason("CDK's custom-resource function uses AWSLambdaBasicExecutionRole, for its own logs only.")
                                .build(),
                        NagPackSuppression.builder().id("AwsSolutions-IAM5")
                                .reason("CDK grants its S3 notification handler s3:PutBucketNotification without a resource "
                                        + "scope; it only touches the source buckets named in the stack.").build(),
                        NagPackSuppression.builder().id("AwsSolutions-L1")
                                .reason("aws-cdk-lib chooses the runtime of its own custom-resource functions.").build()),
                        true);
            }
        }
    }
}
