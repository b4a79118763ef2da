package io.backbeatserverless.tests.deployed;

import io.backbeatserverless.localstack.ChildProcess;
import io.backbeatserverless.localstack.EmbeddedKafka;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKey;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * moto's server (5.2.1, {@code python3}), the AWS emulator this project did not write, run through
 * {@code localstack/moto_server.py} (the AWS behaviours it adds are listed there and in docs/local-runs.md), with IAM
 * enforced: its first three calls create an administrator (a user, its policy, its key), and every call after them is
 * authorized against the caller's policies, the roles' as the template grants them.
 */
final class MotoServer implements AutoCloseable {

    /** The calls moto lets through unauthenticated: CreateUser, PutUserPolicy, CreateAccessKey of the administrator. */
    private static final int BOOTSTRAP_CALLS = 3;

    private final ChildProcess process;
    private final URI endpoint;
    private final AwsCredentials admin;

    private MotoServer(ChildProcess process, URI endpoint, AwsCredentials admin) {
        this.process = process;
        this.endpoint = endpoint;
        this.admin = admin;
    }

    static MotoServer start() throws Exception {
        int port = EmbeddedKafka.freePort();
        Path launcher = repositoryRoot().resolve("localstack/moto_server.py");
        ChildProcess process = ChildProcess.start("moto", List.of("python3", launcher.toString(), "-H", "127.0.0.1", "-p", Integer.toString(port)),
                Map.of("INITIAL_NO_AUTH_ACTION_COUNT", Integer.toString(BOOTSTRAP_CALLS)),
                line -> line.contains("Running on http://127.0.0.1:" + port), Duration.ofSeconds(60));
        URI endpoint = URI.create("http://127.0.0.1:" + port);
        try {
            return new MotoServer(process, endpoint, createAdministrator(endpoint));
        } catch (RuntimeException e) {
            process.close();
            throw e;
        }
    }

    private static AwsCredentials createAdministrator(URI endpoint) {
        try (IamClient iam = IamClient.builder().endpointOverride(endpoint).region(Region.AWS_GLOBAL)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("bootstrap", "bootstrap")))
                .httpClientBuilder(ApacheHttpClient.builder()).build()) {
            iam.createUser(r -> r.userName("suite-admin"));
            iam.putUserPolicy(r -> r.userName("suite-admin").policyName("administrator").policyDocument(
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"));
            AccessKey key = iam.createAccessKey(r -> r.userName("suite-admin")).accessKey();
            return AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey());
        }
    }

    URI endpoint() {
        return endpoint;
    }

    /** The administrator's ARN: the principal the roles' trust policies name here, standing in for Lambda and ECS. */
    String adminArn() {
        return "arn:aws:iam::" + DeployedTemplate.ACCOUNT + ":user/suite-admin";
    }

    /** A client of the emulator signed by the administrator. */
    <B extends AwsClientBuilder<B, C>, C> C admin(B builder) {
        return as(builder, admin);
    }

    /** A client of the emulator signed with {@code credentials}. */
    <B extends AwsClientBuilder<B, C>, C> C as(B builder, AwsCredentials credentials) {
        return builder.endpointOverride(endpoint).region(Region.of(DeployedTemplate.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(credentials)).build();
    }

    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        return Files.exists(dir.resolve("localstack/moto_server.py")) ? dir : dir.getParent();
    }

    @Override
    public void close() {
        process.close();
    }
}
