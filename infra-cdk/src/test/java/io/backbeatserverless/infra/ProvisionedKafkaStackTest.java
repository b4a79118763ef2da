package io.backbeatserverless.infra;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awscdk.assertions.Annotations;
import software.amazon.awscdk.assertions.Match;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The other shape: a provisioned MSK cluster and a CloudServer source whose keys are in Secrets Manager. */
class ProvisionedKafkaStackTest {

    static final String PROVISIONED_CLOUDSERVER = """
            {"source": {"type": "cloudserver", "endpointUrl": "https://cloudserver.example",
                        "credentialsSecretArn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:source-AbCdEf"},
             "sites": [{"name": "aws-location", "destinationBuckets": ["replicas-a", "replicas-b"]}],
             "kafka": {"mode": "provisioned", "partitions": 4, "provisioned": {"brokerCount": 2}}}
            """;

    @TempDir
    static Path work;
    static SynthesizedDeployment synthesized;

    @BeforeAll
    static void synthesize() {
        synthesized = SynthesizedDeployment.of(PROVISIONED_CLOUDSERVER, work);
    }

    @Test
    void provisionedClusterUsesIamAndTlsEverywhere() {
        var template = synthesized.template();
        template.resourceCountIs("AWS::MSK::ServerlessCluster", 0);
        template.hasResourceProperties("AWS::MSK::Cluster", Match.objectLike(Map.of(
                "NumberOfBrokerNodes", 2,
                "ClientAuthentication", Match.objectLike(Map.of("Sasl", Map.of("Iam", Map.of("Enabled", true)))),
                "EncryptionInfo", Map.of("EncryptionInTransit", Map.of("ClientBroker", "TLS", "InCluster", true)))));
        template.hasResourceProperties("AWS::MSK::Topic", Match.objectLike(Map.of(
                "TopicName", KafkaCluster.REPLICATION_TOPIC, "PartitionCount", 4, "ReplicationFactor", 2)));
    }

    @Test
    void nonAwsSourceGetsNoBucketNotificationsAndItsKeysByReference() {
        // The only notifications are the trigger failures bucket's own (EventBridge): none on a source bucket.
        assertThat(String.valueOf(synthesized.template().findResources("Custom::S3BucketNotifications"))).doesNotContain("QueueConfigurations");
        String templateJson = synthesized.template().toJSON().toString();
        // Issue 16: the secret by name, read at run time; no {{resolve:...}} (CloudFormation would put the keys in clear
        // in the environment), and whoever reads the source may read its secret.
        assertThat(templateJson).doesNotContain("{{resolve:secretsmanager").doesNotContain("secretAccessKey")
                .contains("\"credentialsSecret\":\"arn:aws:secretsmanager:us-east-1:111122223333:secret:source-AbCdEf\"");
        synthesized.template().hasResourceProperties("AWS::IAM::Policy", Match.objectLike(Map.of("PolicyDocument", Match.objectLike(Map.of(
                "Statement", Match.arrayWith(List.of(Match.objectLike(Map.of("Action", "secretsmanager:GetSecretValue",
                        "Resource", "arn:aws:secretsmanager:us-east-1:111122223333:secret:source-AbCdEf")))))))));
    }

    @Test
    void siteWithoutFixedBucketIsScopedToItsDestinationBuckets() {
        List<Object> buckets = List.of(bucketArn("replicas-a"), bucketArn("replicas-b"));
        var listBucketOnDestinations = Match.objectLike(Map.of("Action", BackbeatStack.SITE_WRITE_BUCKET_ACTIONS, "Resource", buckets));
        synthesized.template().hasResourceProperties("AWS::IAM::Policy", Match.objectLike(Map.of(
                "PolicyDocument", Match.objectLike(Map.of("Statement", Match.arrayWith(List.of(listBucketOnDestinations)))))));
    }

    private static Object bucketArn(String bucket) {
        return Map.of("Fn::Join", List.of("", List.of("arn:", Map.of("Ref", "AWS::Partition"), ":s3:::" + bucket)));
    }

    @Test
    void cdkNagReportsNoUnsuppressedError() {
        var errors = Annotations.fromStack(synthesized.stack()).findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
        assertThat(errors.stream().map(e -> e.getId() + ": " + e.getEntry().getData()).toList()).isEmpty();
    }
}
