package io.backbeatserverless.infra;

import software.amazon.awscdk.ArnComponents;
import software.amazon.awscdk.CustomResource;
import software.amazon.awscdk.Fn;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.customresources.AwsCustomResource;
import software.amazon.awscdk.customresources.AwsCustomResourcePolicy;
import software.amazon.awscdk.customresources.AwsSdkCall;
import software.amazon.awscdk.customresources.PhysicalResourceId;
import software.amazon.awscdk.services.ec2.ISecurityGroup;
import software.amazon.awscdk.services.ec2.IVpc;
import software.amazon.awscdk.services.ec2.SubnetSelection;
import software.amazon.awscdk.services.ec2.SubnetType;
import software.amazon.awscdk.services.iam.IGrantable;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.lambda.IFunction;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.amazon.awscdk.services.msk.CfnCluster;
import software.amazon.awscdk.services.msk.CfnServerlessCluster;
import software.amazon.awscdk.services.msk.CfnTopic;
import software.constructs.Construct;
import software.constructs.IConstruct;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The MSK cluster (Serverless by default, provisioned as an option), IAM-authenticated over TLS, with
 * the two topics, and the IAM grants of its clients scoped to the cluster, topic and group ARNs.
 *
 * <p>Topics: on a provisioned cluster, {@code AWS::MSK::Topic}; on MSK Serverless, whose topic APIs (and so that
 * resource) do not exist ("These APIs are not available for MSK Serverless clusters", MSK Developer Guide,
 * msk-topic-operations-information.html), a custom resource whose function creates them with Kafka's admin client from
 * inside the VPC ({@link #createTopicsWith}).
 */
final class KafkaCluster extends Construct {

    static final String REPLICATION_TOPIC = "backbeat-replication";
    static final String STATUS_TOPIC = "backbeat-replication-status";
    static final String STATUS_CONSUMER_GROUP = "backbeat-replication-status-processor";

    private final String clusterName;
    private final String clusterArn;
    private final String bootstrapServers;
    private final boolean serverless;
    private final int partitions;
    private final List<IConstruct> topics = new ArrayList<>();

    KafkaCluster(Construct scope, String id, DeploymentConfig.Kafka settings, IVpc vpc, ISecurityGroup securityGroup) {
        super(scope, id);
        List<String> subnetIds = vpc.selectSubnets(SubnetSelection.builder().subnetType(SubnetType.PRIVATE_WITH_EGRESS).build())
                .getSubnetIds();
        clusterName = Stack.of(this).getStackName() + "-kafka";
        serverless = settings.serverless();
        partitions = settings.partitions();
        int replicationFactor;
        if (settings.serverless()) {
            CfnServerlessCluster cluster = CfnServerlessCluster.Builder.create(this, "Serverless")
                    .clusterName(clusterName)
                    .clientAuthentication(CfnServerlessCluster.ClientAuthenticationProperty.builder()
                            .sasl(CfnServerlessCluster.SaslProperty.builder()
                                    .iam(CfnServerlessCluster.IamProperty.builder().enabled(true).build()).build())
                            .build())
                    .vpcConfigs(List.of(CfnServerlessCluster.VpcConfigProperty.builder()
                            .subnetIds(subnetIds).securityGroups(List.of(securityGroup.getSecurityGroupId())).build()))
                    .build();
            clusterArn = cluster.getAttrArn();
            replicationFactor = 3; // MSK Serverless always keeps three replicas
        } else {
            DeploymentConfig.ProvisionedKafka provisioned = settings.provisioned();
            LogGroup brokerLogs = LogGroup.Builder.create(this, "BrokerLogs")
                    .retention(RetentionDays.ONE_MONTH).removalPolicy(RemovalPolicy.DESTROY).build();
            CfnCluster cluster = CfnCluster.Builder.create(this, "Provisioned")
                    .clusterName(clusterName)
                    .kafkaVersion(provisioned.kafkaVersion())
                    .numberOfBrokerNodes(provisioned.brokerCount())
                    .brokerNodeGroupInfo(CfnCluster.BrokerNodeGroupInfoProperty.builder()
                            .clientSubnets(subnetIds)
                            .instanceType(provisioned.instanceType())
                            .securityGroups(List.of(securityGroup.getSecurityGroupId()))
                            .storageInfo(CfnCluster.StorageInfoProperty.builder()
                                    .ebsStorageInfo(CfnCluster.EBSStorageInfoProperty.builder()
                                            .volumeSize(provisioned.volumeSizeGiB()).build()).build())
                            .build())
                    .clientAuthentication(CfnCluster.ClientAuthenticationProperty.builder()
                            .sasl(CfnCluster.SaslProperty.builder()
                                    .iam(CfnCluster.IamProperty.builder().enabled(true).build()).build())
                            .unauthenticated(CfnCluster.UnauthenticatedProperty.builder().enabled(false).build())
                            .build())
                    .encryptionInfo(CfnCluster.EncryptionInfoProperty.builder()
                            .encryptionInTransit(CfnCluster.EncryptionInTransitProperty.builder()
                                    .clientBroker("TLS").inCluster(true).build())
                            .build())
                    .loggingInfo(CfnCluster.LoggingInfoProperty.builder()
                            .brokerLogs(CfnCluster.BrokerLogsProperty.builder()
                                    .cloudWatchLogs(CfnCluster.CloudWatchLogsProperty.builder()
                                            .enabled(true).logGroup(brokerLogs.getLogGroupName()).build())
                                    .build())
                            .build())
                    .build();
            clusterArn = cluster.getAttrArn();
            replicationFactor = Math.min(3, provisioned.brokerCount());
        }

        if (!serverless) {
            for (String topic : List.of(REPLICATION_TOPIC, STATUS_TOPIC)) {
                topics.add(CfnTopic.Builder.create(this, topic.equals(REPLICATION_TOPIC) ? "ReplicationTopic" : "StatusTopic")
                        .clusterArn(clusterArn)
                        .topicName(topic)
                        .partitionCount(settings.partitions())
                        .replicationFactor(replicationFactor)
                        .build());
            }
        }

        // Neither cluster kind exposes its brokers as a CloudFormation attribute; ask the MSK API once per deployment.
        AwsCustomResource brokers = AwsCustomResource.Builder.create(this, "BootstrapBrokers")
                .onUpdate(AwsSdkCall.builder()
                        .service("Kafka").action("getBootstrapBrokers")
                        .parameters(java.util.Map.of("ClusterArn", clusterArn))
                        .physicalResourceId(PhysicalResourceId.of(clusterArn))
                        .outputPaths(List.of("BootstrapBrokerStringSaslIam"))
                        .build())
                .policy(AwsCustomResourcePolicy.fromStatements(List.of(PolicyStatement.Builder.create()
                        .actions(List.of("kafka:GetBootstrapBrokers")).resources(List.of(clusterArn)).build())))
                .installLatestAwsSdk(false)
                .build();
        bootstrapServers = brokers.getResponseField("BootstrapBrokerStringSaslIam");
    }

    String clusterArn() {
        return clusterArn;
    }

    /** The SASL/IAM (TLS, port 9098) bootstrap string. */
    String bootstrapServers() {
        return bootstrapServers;
    }

    /** What creates the topics: what the event source mappings and the clients wait for. */
    List<IConstruct> topics() {
        return topics;
    }

    boolean serverless() {
        return serverless;
    }

    /**
     * On MSK Serverless: the topics, as a custom resource ({@code Custom::KafkaTopics}) that {@code function} (the ops
     * jar's {@code KafkaTopicsResource}, in the VPC) creates, with its role allowed to create and describe these two topics
     * and to raise their partitions, nothing else. CloudFormation invokes the function with the deployer's rights.
     */
    void createTopicsWith(IFunction function) {
        function.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:Connect")).resources(List.of(clusterArn)).build());
        function.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:AlterTopic"))
                .resources(List.of(topicArn(REPLICATION_TOPIC), topicArn(STATUS_TOPIC))).build());
        CustomResource resource = CustomResource.Builder.create(this, "Topics")
                .resourceType("Custom::KafkaTopics")
                .serviceToken(function.getFunctionArn())
                .properties(Map.of(
                        "ClusterArn", clusterArn,
                        "BootstrapServers", bootstrapServers,
                        "IamAuth", "true",
                        "Topics", List.of(Map.of("Name", REPLICATION_TOPIC, "Partitions", Integer.toString(partitions)),
                                Map.of("Name", STATUS_TOPIC, "Partitions", Integer.toString(partitions)))))
                .build();
        topics.add(resource);
    }

    /** arn:aws:kafka:region:account:topic/clusterName/clusterUuid/topic (the cluster's ARN ends in cluster/name/uuid). */
    String topicArn(String topic) {
        return childArn("topic", topic);
    }

    String groupArn(String group) {
        return childArn("group", group);
    }

    private String childArn(String resourceType, String name) {
        String clusterUuid = Fn.select(2, Fn.split("/", clusterArn));
        return Stack.of(this).formatArn(ArnComponents.builder().service("kafka").resource(resourceType)
                .resourceName(clusterName + "/" + clusterUuid + "/" + name).build());
    }

    /**
     * What an MSK event source mapping needs in its function's role (Lambda polls with it): read the
     * topic in its consumer group, and find the cluster's brokers and network.
     */
    void grantConsume(IGrantable consumer, String topic, String group) {
        // The mapping's pollers, with the function's role (Lambda Developer Guide, with-msk-permissions.html).
        consumer.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers",
                        "kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"))
                .resources(List.of(clusterArn)).build());
        consumer.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"))
                .resources(List.of(topicArn(topic))).build());
        consumer.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"))
                .resources(List.of(groupArn(group))).build());
        // The poller's network interfaces: EC2's Describe calls take no resource-level permissions.
        consumer.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"))
                .resources(List.of("*")).build());
    }

    /** An idempotent producer (acks=all) on {@code topic}. */
    void grantProduce(IGrantable producer, String topic) {
        producer.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"))
                .resources(List.of(clusterArn)).build());
        producer.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"))
                .resources(List.of(topicArn(topic))).build());
    }

    /** Reading records of {@code topics} by offset, with no consumer group (a replay of a failed batch by its offsets). */
    void grantReadWithoutGroup(IGrantable reader, String... topics) {
        reader.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:Connect")).resources(List.of(clusterArn)).build());
        reader.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"))
                .resources(java.util.Arrays.stream(topics).map(this::topicArn).toList()).build());
    }

    /** The deep healthcheck: describe both topics' partitions. */
    void grantDescribeTopics(IGrantable reader) {
        reader.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:Connect")).resources(List.of(clusterArn)).build());
        reader.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("kafka-cluster:DescribeTopic"))
                .resources(List.of(topicArn(REPLICATION_TOPIC), topicArn(STATUS_TOPIC))).build());
    }
}
