package io.backbeatserverless.adapters.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import software.amazon.awssdk.arns.Arn;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClientBuilder;
import software.amazon.lambda.powertools.parameters.secrets.SecretsProvider;

import java.io.IOException;
import java.net.URI;
import java.time.temporal.ChronoUnit;

/**
 * A store's keys read from a Secrets Manager secret ({@code {"accessKeyId": …, "secretAccessKey": …}}) when a client
 * signs, through Powertools' parameters (its cache: read again after {@value #MAX_AGE_MINUTES} minutes, so a rotated
 * secret is taken up without a redeploy). The keys are never in the configuration or an environment variable; the
 * function's role needs {@code secretsmanager:GetSecretValue} on the secret (the CDK stack grants it).
 */
public final class SecretCredentialsProvider implements AwsCredentialsProvider {

    static final int MAX_AGE_MINUTES = 5;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final SecretsProvider secrets;
    private final String secretId;
    /** The secret's text last read and its keys: the SDK asks for credentials on every request, the JSON is parsed once. */
    private volatile Parsed last;

    private record Parsed(String text, AwsCredentials keys) {
    }

    public SecretCredentialsProvider(SecretsProvider secrets, String secretId) {
        this.secrets = secrets;
        this.secretId = secretId;
    }

    /** The secret's own region when it is named by ARN, else the function's (AWS_REGION). */
    static SecretCredentialsProvider of(String secretId) {
        return new SecretCredentialsProvider(SecretsProvider.builder().withClient(client(secretId, null)).build(), secretId);
    }

    /** @param endpoint an endpoint override (a test's stand-in for Secrets Manager), or null */
    public static SecretsManagerClient client(String secretId, URI endpoint) {
        SecretsManagerClientBuilder builder = SecretsManagerClient.builder().httpClientBuilder(ApacheHttpClient.builder());
        if (secretId.startsWith("arn:")) {
            Arn.fromString(secretId).region().ifPresent(region -> builder.region(Region.of(region)));
        }
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder.build();
    }

    @Override
    public AwsCredentials resolveCredentials() {
        String text = secrets.withMaxAge(MAX_AGE_MINUTES, ChronoUnit.MINUTES).get(secretId);
        Parsed parsed = last;
        if (parsed != null && parsed.text().equals(text)) {
            return parsed.keys();
        }
        try {
            JsonNode keys = MAPPER.readTree(text);
            String accessKeyId = keys.path("accessKeyId").asText(null);
            String secretAccessKey = keys.path("secretAccessKey").asText(null);
            if (accessKeyId == null || secretAccessKey == null) {
                throw new IllegalStateException("secret " + secretId + " has no 'accessKeyId' and 'secretAccessKey' fields");
            }
            AwsCredentials credentials = AwsBasicCredentials.create(accessKeyId, secretAccessKey);
            last = new Parsed(text, credentials);
            return credentials;
        } catch (IOException e) {
            throw new IllegalStateException("secret " + secretId + " is not JSON with 'accessKeyId' and 'secretAccessKey'", e);
        }
    }
}
