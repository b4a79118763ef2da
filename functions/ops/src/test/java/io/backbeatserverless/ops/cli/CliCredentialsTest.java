package io.backbeatserverless.ops.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

import java.net.URI;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 16: the CLI signs with temporary credentials and their session token, finds them as the AWS SDK does, and
 * never signs a deployed API's calls with the local stack's key.
 */
class CliCredentialsTest {

    private static final URI DEPLOYED = URI.create("https://abc123defg.execute-api.eu-west-3.amazonaws.com/");
    private static final URI LOCAL = URI.create("http://127.0.0.1:8900");
    private static final List<String> PROPERTIES = List.of("aws.accessKeyId", "aws.secretAccessKey", "aws.sessionToken",
            "aws.disableEc2Metadata", "aws.sharedCredentialsFile", "aws.configFile");

    @AfterEach
    void clear() {
        PROPERTIES.forEach(System::clearProperty);
    }

    @Test
    void givenTemporaryCredentialsSignWithTheirToken() {
        AwsCredentialsIdentity given = CliCredentials.resolve(DEPLOYED, "ASIAGIVEN", "secret", "token-1");
        assertThat(given).isInstanceOf(AwsSessionCredentialsIdentity.class);
        assertThat(((AwsSessionCredentialsIdentity) given).sessionToken()).isEqualTo("token-1");
        assertThatThrownBy(() -> CliCredentials.resolve(DEPLOYED, "AKIA", null, null)).hasMessageContaining("--secret-key");
    }

    @Test
    void aDeployedApiGetsTheSdksCredentialsWithTheirSessionToken() {
        noCredentialsAroundBut();
        System.setProperty("aws.accessKeyId", "ASIAFROMCHAIN");
        System.setProperty("aws.secretAccessKey", "chain-secret");
        System.setProperty("aws.sessionToken", "chain-token");

        AwsCredentialsIdentity found = CliCredentials.resolve(DEPLOYED, null, null, null);

        assertThat(found.accessKeyId()).isEqualTo("ASIAFROMCHAIN");
        assertThat(((AwsSessionCredentialsIdentity) found).sessionToken()).isEqualTo("chain-token");
    }

    @Test
    void aDeployedApiWithoutCredentialsIsAClearErrorNeverTheLocalKey() {
        noCredentialsAroundBut();

        assertThatThrownBy(() -> CliCredentials.resolve(DEPLOYED, null, null, null))
                .hasMessageContaining("no AWS credentials to sign the call to " + DEPLOYED)
                .hasMessageContaining("AWS_PROFILE");
        assertThat(CliCredentials.resolve(LOCAL, null, null, null).accessKeyId()).as("the local stack's key, for a local endpoint only")
                .isEqualTo(CliCredentials.LOCAL_ACCESS_KEY);
    }

    @Test
    void theRegionIsTheOneTheApiGatewayHostNames() {
        assertThat(CliCredentials.region(DEPLOYED, "")).isEqualTo("eu-west-3");
        assertThat(CliCredentials.region(DEPLOYED, "us-west-2")).isEqualTo("us-west-2");
        assertThat(CliCredentials.region(LOCAL, null)).isEqualTo("us-east-1");
    }

    /** No credentials in the environment, files or instance metadata of this test's process: only what it sets. */
    private static void noCredentialsAroundBut() {
        assumeTrue(System.getenv("AWS_ACCESS_KEY_ID") == null && System.getenv("AWS_PROFILE") == null
                        && System.getenv("AWS_WEB_IDENTITY_TOKEN_FILE") == null && System.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") == null
                        && System.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") == null,
                "AWS credentials in this environment would be found first");
        System.setProperty("aws.disableEc2Metadata", "true");
        System.setProperty("aws.sharedCredentialsFile", "/nonexistent/credentials");
        System.setProperty("aws.configFile", "/nonexistent/config");
    }
}
