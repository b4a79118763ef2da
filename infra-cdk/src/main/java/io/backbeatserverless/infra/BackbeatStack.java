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
import software.amazon.awscdk.services.lambda.IFunction;
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

    public static final String REPLICATOR_HANDLER = "io.backbeatserverless.replicator.ReplicatorHandler::handleRequest";
    public static final String STATUS_HANDLER = "io.backbeatserverless.status.StatusHandler::handleRequest";
    public static final String OPS_HANDLER = "io.backbeatserverless.ops.OpsHandler::handleRequest";
    public static final String VERIFIER_HANDLER = "io.backbeatserverless.verifier.VerifierHandler::handleRequest";
    /** The topics' custom resource on MSK Serverless (in the ops jar, which has Kafka's admin client and MSK's IAM login). */
    static final String TOPICS_HANDLER = "io.backbeatserverless.ops.KafkaTopicsResource::handleRequest";

    /*
     * S3 actions, by what the code calls (each API's permission: Amazon S3 API Reference, the operation's page, and the
     * Service Authorization Reference for Amazon S3). A HEAD or GET of a version needs s3:GetObjectVersion; tagging calls
     * with a versionId need the Version forms as well; ListObjectVersions needs s3:ListBucketVersions; s3:ListBucket makes
     * a missing key a 404 rather than a 403 (API_HeadObject).
     */

    /** Writing replicas at an S3 site, on its bucket: a missing replica is a 404; a key's versions listed at the site. */
    public static final List<String> SITE_WRITE_BUCKET_ACTIONS = List.of("s3:ListBucket", "s3:ListBucketVersions");
    /**
     * Writing replicas at an S3 site, on its objects: HEAD of the key and of a version; PUT, multipart uploads and
     * server-side copies (s3:PutObject, with their tags: s3:PutObjectTagging); a metadata-only change re-tags a version
     * (Put/DeleteObjectVersionTagging, with their unversioned forms); a delete marker (s3:DeleteObject); an abandoned
     * upload aborted. A version's Object Lock is written with it and changed in place later (s3:PutObjectRetention,
     * s3:PutObjectLegalHold, as S3 Replication's own role needs: its failure reasons DstPutRetentionNotPermitted and
     * DstPutLegalHoldNotPermitted), a GOVERNANCE retention shortened or lifted with s3:BypassGovernanceRetention.
     */
    public static final List<String> SITE_WRITE_OBJECT_ACTIONS = List.of("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject",
            "s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging",
            "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention");
    /** Verify at an S3 site, on its bucket: its versions, and the uploads left in progress. */
    public static final List<String> SITE_READ_BUCKET_ACTIONS = List.of("s3:ListBucket", "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads");
    /** Verify at an S3 site, on its objects: each replica's metadata and tags. */
    public static final List<String> SITE_READ_OBJECT_ACTIONS = List.of("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging",
            "s3:GetObjectVersionTagging");
    /** Copying from the source (the replicator): a key's versions listed, for their order. */
    static final List<String> SOURCE_COPY_BUCKET_ACTIONS = List.of("s3:ListBucket", "s3:ListBucketVersions");
    /**
     * Copying from the source: HEAD and GET of the version, its tags; a server-side copy reads the same (CopyObject and
     * UploadPartCopy of a version need s3:GetObjectVersion; a copy of its tags, s3:GetObjectVersionTagging). A HEAD or GET
     * answers a version's Object Lock only to a caller allowed s3:GetObjectRetention and s3:GetObjectLegalHold, and leaves
     * it out silently otherwise ("Managing Object Lock"): without them every replica would be written unlocked.
     */
    static final List<String> SOURCE_COPY_OBJECT_ACTIONS = List.of("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging",
            "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold");
    /** Verify of the source: its versions. */
    static final List<String> SOURCE_READ_BUCKET_ACTIONS = List.of("s3:ListBucket", "s3:ListBucketVersions");
    /** Verify of the source: each version's metadata and tags. */
    static final List<String> SOURCE_READ_OBJECT_ACTIONS = SOURCE_COPY_OBJECT_ACTIONS;

    /** What a site's own keys (sites[].credentialsSecretArn) must allow on its bucket: the replicator's and verify's needs. */
    public static List<String> siteKeyBucketActions() {
        return union(SITE_WRITE_BUCKET_ACTIONS, SITE_READ_BUCKET_ACTIONS);
    }

    /** What a site's own keys must allow on its objects. */
    public static List<String> siteKeyObjectActions() {
        return union(SITE_WRITE_OBJECT_ACTIONS, SITE_READ_OBJECT_ACTIONS);
    }

    private static List<String> union(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).distinct().toList();
    }
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
        // The S3-events feed: the source buckets' notifications into a queue the populator reads.
        Queue sourceChanges = deployment.source().s3Events() ? notifySourceChanges() : null;
        RuntimeConfiguration runtimeConfiguration = new RuntimeConfiguration(deployment, Aws.REGION,
                kafka.bootstrapServers(), tables.names(), sourceChanges == null ? null : sourceChanges.getQueueUrl());

        // Batches an MSK trigger gave up on, with their records (an S3 on-failure destination receives the whole invocation
        // record; SQS and SNS ones only its offsets: Lambda Developer Guide, with-msk-on-failure.html). The functions reach
        // S3 through the VPC's S3 gateway endpoint, the endpoint AWS asks for in the cluster's VPC.
        TriggerFailures triggerFailures = new TriggerFailures(this, "TriggerFailures");

        DeploymentConfig.Functions sizes = deployment.functions();
        if (kafka.serverless()) {
            Function topics = javaFunction("KafkaTopics", assets.opsJar().toString(), TOPICS_HANDLER, 512, 300, vpc, privateSubnets,
                    kafkaPeers, Map.of());
            kafka.createTopicsWith(topics);
        }
        Map<String, Function> replicators = new LinkedHashMap<>();
        Map<String, CfnEventSourceMapping> replicatorTriggers = new LinkedHashMap<>();
        for (DeploymentConfig.Site site : deployment.sites()) {
            Function replicator = javaFunction("Replicator-" + site.name(), assets.replicatorJar().toString(), REPLICATOR_HANDLER,
                    sizes.replicatorMemoryMiB(), sizes.replicatorTimeoutSeconds(), vpc, privateSubnets, kafkaPeers,
                    Map.of("BACKBEAT_SITE", site.name(), "BACKBEAT_CONFIG_JSON", runtimeConfiguration.forReplicator(site.name())));
            kafka.grantConsume(replicator, KafkaCluster.REPLICATION_TOPIC, site.consumerGroup());
            kafka.grantProduce(replicator, KafkaCluster.STATUS_TOPIC);
            // A copy cut short by the invocation's deadline saves its progress (checkpoints table) and puts its entry back.
            kafka.grantProduce(replicator, KafkaCluster.REPLICATION_TOPIC);
            tables.grant(replicator, tables.checkpoints, "GetItem", "BatchGetItem", "PutItem", "DeleteItem");
            // A version retried late asks whether the newer delete markers of its key are replicated already (their records,
            // and the backfill pages that hold them: a Query of the bucket's pages).
            tables.grant(replicator, tables.status, "BatchGetItem", "Query", "GetItem");
            grantSourceRead(replicator, SOURCE_COPY_BUCKET_ACTIONS, SOURCE_COPY_OBJECT_ACTIONS);
            grantS3(replicator, site.writableBuckets(), SITE_WRITE_BUCKET_ACTIONS, SITE_WRITE_OBJECT_ACTIONS);
            grantKms(replicator, deployment.source().kmsKeyArns(), site);
            grantSecretsRead(replicator, runtimeConfiguration.replicatorSecrets(site.name()));
            CfnEventSourceMapping trigger = mskTrigger("ReplicatorTrigger-" + site.name(), live(replicator), kafka,
                    KafkaCluster.REPLICATION_TOPIC, site.consumerGroup(), triggerFailures);
            replicators.put(site.name(), replicator);
            replicatorTriggers.put(site.name(), trigger);
        }

        Function statusProcessor = javaFunction("StatusProcessor", assets.statusJar().toString(), STATUS_HANDLER,
                sizes.statusMemoryMiB(), 300, vpc, privateSubnets, kafkaPeers,
                Map.of("BACKBEAT_CONFIG_JSON", runtimeConfiguration.forStatusProcessor()));
        kafka.grantConsume(statusProcessor, KafkaCluster.STATUS_TOPIC, KafkaCluster.STATUS_CONSUMER_GROUP);
        // An outcome's conditional update (and a read when StatusMerge refuses it); its failed entry; its counts.
        // Outcomes on versions' records and backfill pages (and the jobs' counters); reads when StatusMerge refuses one.
        tables.grant(statusProcessor, tables.status, "UpdateItem", "GetItem", "Query");
        tables.grant(statusProcessor, tables.failedEntries, "PutItem", "DeleteItem", "Query");
        tables.grant(statusProcessor, tables.metrics, "UpdateItem", "GetItem");
        grantSecretsRead(statusProcessor, runtimeConfiguration.sourceSecrets());
        statusProcessor.addToRolePolicy(PolicyStatement.Builder.create().actions(List.of("events:PutEvents"))
                .resources(List.of("arn:" + Aws.PARTITION + ":events:" + Aws.REGION + ":" + Aws.ACCOUNT_ID + ":event-bus/"
                        + RuntimeConfiguration.EVENT_BUS)).build());
        mskTrigger("StatusTrigger", live(statusProcessor), kafka, KafkaCluster.STATUS_TOPIC, KafkaCluster.STATUS_CONSUMER_GROUP,
                triggerFailures);

        Map<String, String> mappingBySite = new LinkedHashMap<>();
        replicatorTriggers.forEach((site, trigger) -> mappingBySite.put(site, trigger.getRef()));
        Function ops = javaFunction("Ops", assets.opsJar().toString(), OPS_HANDLER, sizes.opsMemoryMiB(), 60, vpc, privateSubnets,
                kafkaPeers, Map.of("BACKBEAT_CONFIG_JSON", runtimeConfiguration.forOps(mappingBySite, triggerFailures.bucket().getBucketName())));
        // Failed entries listed and retried; sites paused and resumed; metrics read (and a retry counted); a version's
        // status read and, on a retry, made PENDING; the listing feed's progress read; rules kept; verify runs started.
        tables.grant(ops, tables.failedEntries, "Query", "DeleteItem");
        tables.grant(ops, tables.siteState, "GetItem", "PutItem");
        tables.grant(ops, tables.metrics, "GetItem", "Query", "UpdateItem");
        // A version's status (its record and its backfill page), a retry's PENDING; backfill jobs started, listed, reported.
        tables.grant(ops, tables.status, "GetItem", "UpdateItem", "PutItem", "Query");
        tables.grant(ops, tables.checkpoints, "GetItem");
        tables.grant(ops, tables.rules, "GetItem", "PutItem", "DeleteItem", "Scan");
        tables.grant(ops, tables.verify, "PutItem", "GetItem", "Query", "UpdateItem");
        kafka.grantProduce(ops, KafkaCluster.REPLICATION_TOPIC); // retries re-publish entries
        kafka.grantDescribeTopics(ops);
        // The trigger failures: listed, replayed onto their topic (from their payload, or by their offsets), then deleted.
        triggerFailures.grantReplay(ops);
        if (sourceChanges != null) {
            // ops source-events: the feed's queue and its dead letters counted, and the dead letters moved back onto the queue
            // (SQS's message move task acts with its caller's permissions: SQS Developer Guide, dead-letter queue redrive).
            ops.addToRolePolicy(PolicyStatement.Builder.create().actions(List.of("sqs:GetQueueAttributes", "sqs:SendMessage"))
                    .resources(List.of(sourceChanges.getQueueArn())).build());
            ops.addToRolePolicy(PolicyStatement.Builder.create().actions(List.of("sqs:GetQueueUrl", "sqs:GetQueueAttributes",
                            "sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks", "sqs:ReceiveMessage", "sqs:DeleteMessage"))
                    .resources(List.of(sourceChanges.getDeadLetterQueue().getQueue().getQueueArn())).build());
        }
        kafka.grantProduce(ops, KafkaCluster.STATUS_TOPIC);
        kafka.grantReadWithoutGroup(ops, KafkaCluster.REPLICATION_TOPIC, KafkaCluster.STATUS_TOPIC);
        ops.addToRolePolicy(PolicyStatement.Builder.create()
                .actions(List.of("lambda:UpdateEventSourceMapping"))
                .resources(replicatorTriggers.values().stream().map(trigger -> "arn:" + Aws.PARTITION + ":lambda:" + Aws.REGION
                        + ":" + Aws.ACCOUNT_ID + ":event-source-mapping:" + trigger.getRef()).toList())
                .build());
        var opsLive = live(ops);
        OpsEndpoint opsEndpoint = new OpsEndpoint(this, "OpsEndpoint", opsLive);
        scheduleDueResumes(opsLive);

        VerifyInventories inventories = deployment.verify().inventory() == null ? null
                : new VerifyInventories(this, "VerifyInventories", deployment, deployment.verify().inventory());
        Function verifier = javaFunction("Verifier", assets.verifierJar().toString(), VERIFIER_HANDLER, sizes.opsMemoryMiB(), 900,
                vpc, privateSubnets, kafkaPeers, Map.of("BACKBEAT_CONFIG_JSON", runtimeConfiguration.forVerifier(inventories == null ? null
                        : new RuntimeConfiguration.VerifyInventory(inventories.location(), inventories.siteNames(),
                        deployment.verify().inventory().fromVersions()))));
        if (inventories != null) {
            inventories.grantVerify(verifier);
        }
        // Its runs and findings; the versions' statuses; a repair is a re-queue (status PENDING, the failed entry it replaces
        // removed, the queued count added); each bucket's rules.
        tables.grant(verifier, tables.verify, "PutItem", "GetItem", "Query", "UpdateItem", "BatchWriteItem");
        tables.grant(verifier, tables.status, "BatchGetItem", "GetItem", "UpdateItem", "Query", "PutItem"); // PutItem: a repair's backfill job
        tables.grant(verifier, tables.failedEntries, "DeleteItem");
        tables.grant(verifier, tables.metrics, "UpdateItem");
        tables.grant(verifier, tables.rules, "GetItem");
        kafka.grantProduce(verifier, KafkaCluster.REPLICATION_TOPIC); // repairs are queued as any entry
        grantSourceRead(verifier, SOURCE_READ_BUCKET_ACTIONS, SOURCE_READ_OBJECT_ACTIONS);
        grantSecretsRead(verifier, runtimeConfiguration.verifierSecrets());
        for (DeploymentConfig.Site site : deployment.sites()) {
            grantS3(verifier, site.writableBuckets(), SITE_READ_BUCKET_ACTIONS, SITE_READ_OBJECT_ACTIONS);
        }
        if (deployment.source().isAwsS3()) {
            // A run without a bucket walks every bucket with rules, found with ListBuckets, which takes no resource scope.
            verifier.addToRolePolicy(PolicyStatement.Builder.create()
                    .actions(List.of("s3:ListAllMyBuckets")).resources(List.of("*")).build());
        }
        scheduleVerify(live(verifier));

        FargateService populator = populatorService(vpc, privateSubnets, kafkaPeers, kafka, tables, assets, runtimeConfiguration,
                sourceChanges);

        new ReplicationMonitoring(this, "Monitoring", deployment, replicators, statusProcessor, ops, triggerFailures, populator,
                sourceChanges);

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
        software.amazon.awscdk.Aspects.of(this).add(new RedundantDependsOnOfGeneratedResources());
    }

    /**
     * cfn-lint's W3005 (a DependsOn that a Ref or GetAtt already implies) on what CDK writes itself: a Lambda function's
     * DependsOn its service role (and the role's policy, which the function must wait for: the Role GetAtt alone would
     * not wait for the policy), and S3 notifications' DependsOn their queue. Suppressed on those resources only, in their
     * metadata, as cfn-lint reads it; every other warning stays an error of the lint test.
     */
    private static final class RedundantDependsOnOfGeneratedResources implements software.amazon.awscdk.IAspect {
        @Override
        public void visit(IConstruct node) {
            if (node instanceof software.amazon.awscdk.CfnResource resource
                    && List.of("AWS::Lambda::Function", "Custom::S3BucketNotifications").contains(resource.getCfnResourceType())) {
                resource.addMetadata("cfn-lint", Map.of("config", Map.of("ignore_checks", List.of("W3005"))));
            }
        }
    }

    private Function javaFunction(String id, String jar, String handler, int memoryMiB, int timeoutSeconds, Vpc vpc,
                                  SubnetSelection subnets, SecurityGroup securityGroup, Map<String, String> environment) {
        LogGroup logs = LogGroup.Builder.create(this, id + "Logs").retention(RetentionDays.ONE_MONTH)
                .removalPolicy(RemovalPolicy.DESTROY).build();
        Function function = Function.Builder.create(this, id)
                // The project's target: Java 21 bytecode on Lambda's java21 runtime.
                .runtime(Runtime.JAVA_21)
                // Graviton: Lambda's arm64 price per GB-s is 20 % under x86_64's (aws.amazon.com/lambda/pricing); every
                // native library in the jars has its aarch64 build (NativeLibrariesTest).
                .architecture(software.amazon.awscdk.services.lambda.Architecture.ARM_64)
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
     * The function's alias "live" on its current version: what its callers invoke, so that they run the published
     * version's SnapStart snapshot ($LATEST has none). A deployment that changes the function publishes a new version
     * and moves the alias.
     */
    private software.amazon.awscdk.services.lambda.Alias live(Function function) {
        // SnapStart (issue 33): invocations of the published version resume from a snapshot of the initialized, primed
        // function (SnapStartHooks). The topics' custom resource, run at deployment only, keeps none.
        ((software.amazon.awscdk.services.lambda.CfnFunction) function.getNode().getDefaultChild()).setSnapStart(
                software.amazon.awscdk.services.lambda.CfnFunction.SnapStartProperty.builder().applyOn("PublishedVersions").build());
        return software.amazon.awscdk.services.lambda.Alias.Builder.create(this, function.getNode().getId() + "Live")
                .aliasName("live").version(function.getCurrentVersion()).build();
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

    private CfnEventSourceMapping mskTrigger(String id, IFunction function, KafkaCluster kafka, String topic, String group,
                                             TriggerFailures onFailure) {
        onFailure.grantWrite(function);
        CfnEventSourceMapping.Builder builder = CfnEventSourceMapping.Builder.create(this, id);
        if (deployment.eventSource().provisionedPollers()) {
            builder.provisionedPollerConfig(CfnEventSourceMapping.ProvisionedPollerConfigProperty.builder()
                    .minimumPollers(deployment.eventSource().minimumPollers())
                    .maximumPollers(deployment.eventSource().maximumPollers()).build());
        }
        CfnEventSourceMapping trigger = builder
                .functionName(function.getFunctionArn())
                .eventSourceArn(kafka.clusterArn())
                .topics(List.of(topic))
                .amazonManagedKafkaEventSourceConfig(CfnEventSourceMapping.AmazonManagedKafkaEventSourceConfigProperty.builder()
                        .consumerGroupId(group).build())
                .batchSize(deployment.eventSource().batchSize())
                .maximumBatchingWindowInSeconds(deployment.eventSource().batchWindowSeconds())
                .startingPosition("TRIM_HORIZON")
                .destinationConfig(CfnEventSourceMapping.DestinationConfigProperty.builder()
                        .onFailure(CfnEventSourceMapping.OnFailureProperty.builder().destination(onFailure.bucketArn()).build())
                        .build())
                .build();
        // The mapping checks its permissions when created (its function's role policy, which the function itself waits
        // for) and reads its topic: after both exist.
        kafka.topics().forEach(t -> trigger.getNode().addDependency(t));
        return trigger;
    }

    /** EventBridge Scheduler calls the ops function each minute to resume the sites whose resume is due. */
    private void scheduleDueResumes(IFunction ops) {
        schedule("DueResumes", "POST /_/crr/resume/due on the ops function: resumes sites whose scheduled resume is due",
                "rate(1 minute)", ops, schedulerRole("DueResumeSchedulerRole", ops), RESUME_DUE_EVENT);
    }

    /** A role EventBridge Scheduler assumes to invoke {@code function}, and nothing else. */
    private Role schedulerRole(String id, IFunction function) {
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
    private void scheduleVerify(IFunction verifier) {
        Role schedulerRole = schedulerRole("VerifySchedulerRole", verifier);
        schedule("VerifyWork", "walks unfinished verify runs", "rate(1 minute)", verifier, schedulerRole, "{\"action\":\"work\"}");
        DeploymentConfig.Verify verify = deployment.verify();
        if (verify.schedule() != null) {
            ObjectNode start = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("action", "start")
                    .put("repair", verify.repair()).put("deep", verify.deep());
            verify.buckets().forEach(start.putArray("buckets")::add);
            schedule("VerifyStart", "starts verify runs (deployment's verify.schedule)", verify.schedule(), verifier, schedulerRole,
                    start.toString());
        }
    }

    private void schedule(String id, String what, String expression, IFunction target, Role role, String input) {
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
                                            BackbeatTables tables, DeploymentAssets assets, RuntimeConfiguration runtimeConfiguration,
                                            Queue sourceChanges) {
        Cluster cluster = Cluster.Builder.create(this, "PopulatorCluster").vpc(vpc)
                .containerInsightsV2(ContainerInsights.ENABLED).build();
        // Graviton, as the functions: Fargate's Linux/ARM prices are 20 % under Linux/x86's (aws.amazon.com/fargate/pricing).
        FargateTaskDefinition task = FargateTaskDefinition.Builder.create(this, "PopulatorTask")
                .cpu(deployment.populator().cpu()).memoryLimitMiB(deployment.populator().memoryMiB())
                .runtimePlatform(software.amazon.awscdk.services.ecs.RuntimePlatform.builder()
                        .cpuArchitecture(software.amazon.awscdk.services.ecs.CpuArchitecture.ARM64)
                        .operatingSystemFamily(software.amazon.awscdk.services.ecs.OperatingSystemFamily.LINUX).build())
                .build();
        LogGroup logs = LogGroup.Builder.create(this, "PopulatorLogs").retention(RetentionDays.ONE_MONTH)
                .removalPolicy(RemovalPolicy.DESTROY).build();
        task.addContainer("populator", ContainerDefinitionOptions.builder()
                .image(ContainerImage.fromAsset(assets.populatorImageContext().toString(),
                        // Built for arm64 (docker buildx; on an x86 host, with QEMU's binfmt handlers: docs/deploy.md).
                        AssetImageProps.builder().platform(Platform.LINUX_ARM64).build()))
                .environment(withLogging(Map.of("BACKBEAT_CONFIG_JSON", runtimeConfiguration.forPopulator(),
                        "BACKBEAT_POPULATOR_HEALTH_PORT", Integer.toString(POPULATOR_HEALTH_PORT)), "Populator"))
                .logging(LogDriver.awsLogs(AwsLogDriverProps.builder().streamPrefix("populator").logGroup(logs).build()))
                .healthCheck(HealthCheck.builder()
                        // curl is in the image: populator-image/Dockerfile installs it (curl-minimal) for this check.
                        .command(List.of("CMD-SHELL", "curl -fsS http://127.0.0.1:" + POPULATOR_HEALTH_PORT
                                + "/_/health/liveness || exit 1"))
                        .interval(Duration.seconds(30)).timeout(Duration.seconds(5)).retries(3)
                        .startPeriod(Duration.seconds(60))
                        .build())
                .build());
        IGrantable populator = task.getTaskRole();
        kafka.grantProduce(populator, KafkaCluster.REPLICATION_TOPIC);
        // Its published counts; each bucket's rules (AWS S3 sources keep them in the rule store).
        tables.grant(populator, tables.metrics, "UpdateItem");
        tables.grant(populator, tables.rules, "GetItem");
        // Backfill jobs, on every feed: the jobs listing (a Query), each page recorded before it is published (PutItem),
        // the job's cursor moved (UpdateItem); the listing feed starts a job for a bucket it meets with rules (PutItem) and
        // reads the pages' versions (Query, GetItem) among the statuses it looks up.
        tables.grant(populator, tables.status, "Query", "GetItem", "PutItem", "UpdateItem");
        // Backfill jobs list the buckets' versions, and read the tags of those a rule chooses by its tags (on every feed).
        grantSourceRead(populator, List.of("s3:ListBucket", "s3:ListBucketVersions"),
                List.of("s3:GetObjectTagging", "s3:GetObjectVersionTagging"));
        grantSecretsRead(populator, runtimeConfiguration.sourceSecrets());
        if (sourceChanges != null) {
            // The S3-events feed: receives the notifications and deletes them once their entries are in Kafka.
            populator.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .actions(List.of("sqs:ReceiveMessage", "sqs:DeleteMessage")).resources(List.of(sourceChanges.getQueueArn())).build());
        } else {
            // The listing feed: its cursor (checkpoints); the versions it queued (status table, PENDING before the publish).
            tables.grant(populator, tables.checkpoints, "GetItem", "PutItem");
            tables.grant(populator, tables.status, "BatchGetItem", "BatchWriteItem");
            if (deployment.source().isAwsS3()) {
                // It finds the buckets with rules with ListBuckets, which takes no resource scope.
                populator.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                        .actions(List.of("s3:ListAllMyBuckets")).resources(List.of("*")).build());
            }
        }
        FargateService service = FargateService.Builder.create(this, "Populator")
                .cluster(cluster).taskDefinition(task)
                // One populator: a second would publish the same versions again.
                .desiredCount(1).minHealthyPercent(0).maxHealthyPercent(100)
                .vpcSubnets(subnets).securityGroups(List.of(securityGroup))
                .circuitBreaker(DeploymentCircuitBreaker.builder().rollback(true).build())
                .build();
        kafka.topics().forEach(topic -> service.getNode().addDependency(topic));
        NagSuppressions.addResourceSuppressions(task, List.of(NagPackSuppression.builder()
                .id("AwsSolutions-ECS2")
                .reason("The environment holds the populator's configuration (endpoints, table names, brokers); a store's "
                        + "credentials are named there by their Secrets Manager secret's ARN and read at run time, never held.")
                .build()), true);
        return service;
    }

    /**
     * S3 event notifications of the AWS source buckets into a queue, the S3-events feed: new versions, delete markers and
     * tag changes (s3:ObjectTagging:Put/Delete, their own events: S3 User Guide, notification-how-to-event-types-and-
     * destinations). A message the populator cannot use goes to the queue's dead-letter queue after 5 receives, which
     * has an alarm.
     */
    private Queue notifySourceChanges() {
        Queue sourceChanges = encryptedQueueWithDeadLetters("SourceChanges");
        SqsDestination destination = new SqsDestination(sourceChanges);
        for (String bucketName : deployment.source().buckets()) {
            var bucket = Bucket.fromBucketName(this, "Source-" + bucketName, bucketName);
            bucket.addEventNotification(EventType.OBJECT_CREATED, destination);
            bucket.addEventNotification(EventType.OBJECT_REMOVED_DELETE_MARKER_CREATED, destination);
            bucket.addEventNotification(EventType.OBJECT_TAGGING, destination);
        }
        CfnOutput.Builder.create(this, "SourceChangesQueueUrl").value(sourceChanges.getQueueUrl())
                .description("S3 event notifications of the source buckets (the populator's feed)").build();
        return sourceChanges;
    }

    private Queue encryptedQueueWithDeadLetters(String id) {
        Queue deadLetters = Queue.Builder.create(this, id + "DeadLetters")
                .encryption(QueueEncryption.SQS_MANAGED).enforceSsl(true).retentionPeriod(Duration.days(14)).build();
        return Queue.Builder.create(this, id)
                .encryption(QueueEncryption.SQS_MANAGED).enforceSsl(true).retentionPeriod(Duration.days(14))
                .deadLetterQueue(DeadLetterQueue.builder().queue(deadLetters).maxReceiveCount(5).build())
                .build();
    }

    /** {@code bucketActions} on the AWS source buckets and {@code objectActions} on their objects (others use keys). */
    private void grantSourceRead(IGrantable grantee, List<String> bucketActions, List<String> objectActions) {
        if (deployment.source().isAwsS3()) {
            grantS3(grantee, deployment.source().buckets(), bucketActions, objectActions);
        }
    }

    /**
     * The KMS keys a site's replicator uses (S3 User Guide, "Replicating encrypted objects": the replication role needs
     * kms:Decrypt on the source's keys and kms:GenerateDataKey on the replica key; a multipart upload under SSE-KMS needs
     * kms:Decrypt on the replica key as well, to complete it).
     */
    private static void grantKms(IGrantable replicator, List<String> sourceKeys, DeploymentConfig.Site site) {
        if (!sourceKeys.isEmpty()) {
            replicator.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .actions(List.of("kms:Decrypt")).resources(sourceKeys).build());
        }
        if (site.encryption() != null && site.encryption().kmsKeyId() != null) {
            replicator.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .actions(List.of("kms:GenerateDataKey", "kms:Decrypt")).resources(List.of(site.encryption().kmsKeyId())).build());
        }
    }

    /** {@code bucketActions} on {@code buckets} and {@code objectActions} on their objects; nothing for no bucket. */
    private static void grantS3(IGrantable grantee, List<String> buckets, List<String> bucketActions, List<String> objectActions) {
        if (buckets.isEmpty()) {
            return;
        }
        if (!bucketActions.isEmpty()) {
            grantee.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .actions(bucketActions).resources(buckets.stream().map(BackbeatStack::bucketArn).toList()).build());
        }
        if (!objectActions.isEmpty()) {
            grantee.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                    .actions(objectActions).resources(buckets.stream().map(bucket -> bucketArn(bucket) + "/*").toList()).build());
        }
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
                .reason("Object permissions are scoped to the objects of the configured buckets (arn:...:s3:::<bucket>/*) and of "
                        + "the stack's trigger failures bucket (s3:PutObject of the batches an MSK trigger gives up on). "
                        + "Resource * is only granted for actions without resource-level permissions: the MSK triggers' "
                        + "ec2:DescribeVpcs/DescribeSubnets/DescribeSecurityGroups, s3:ListAllMyBuckets (the listing feed's and "
                        + "verify's walk of every bucket with rules) and the populator's execution role's ecr:GetAuthorizationToken. "
                        + "The verifier reads the S3 Inventory reports under inventories/ of the stack's reports bucket (names S3 "
                        + "chooses) and writes its shards under inventories/backbeat-verify/.")
                .appliesTo(List.of(
                        RegexAppliesTo.builder().regex("/^Resource::arn:<AWS::Partition>:s3:::[^*/]+/\\*$/g").build(),
                        // The MSK triggers write a failed batch as an object of a name Lambda chooses, in the stack's bucket.
                        RegexAppliesTo.builder().regex("/^Resource::<TriggerFailuresBucket[0-9A-F]+\\.Arn>/\\*$/g").build(),
                        RegexAppliesTo.builder().regex("/^Resource::<VerifyInventoriesReports[0-9A-F]+\\.Arn>/inventories/(backbeat-verify/)?\\*$/g").build(),
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
