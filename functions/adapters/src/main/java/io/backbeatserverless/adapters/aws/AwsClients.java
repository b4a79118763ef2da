package io.backbeatserverless.adapters.aws;

import io.backbeatserverless.adapters.config.Endpoint;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;

import java.time.Duration;

/**
 * Builds the SDK clients for an {@link Endpoint}. One place decides HTTP client and checksum
 * settings: the Apache client (the netty one clashes with local-s3's netty), path-style addressing
 * (S3-compatible servers rarely do virtual hosts), and checksums only where an API requires them
 * (S3-compatible servers reject the SDK's default streaming trailer checksums).
 */
public final class AwsClients {

    private AwsClients() {
    }

    public static S3Client s3(Endpoint endpoint, int maxConnections) {
        return s3(endpoint, maxConnections, true);
    }

    /**
     * An S3 client; {@code sdkRetries} false leaves every retry to the caller's own policy (the
     * replicator's), so retries are not nested and each is counted.
     */
    public static S3Client s3(Endpoint endpoint, int maxConnections, boolean sdkRetries) {
        return s3(endpoint, maxConnections, sdkRetries, null);
    }

    /** @param timeouts a time limit on each request's attempt ({@link RequestTimeouts}); null: the socket timeout alone */
    public static S3Client s3(Endpoint endpoint, int maxConnections, boolean sdkRetries, RequestTimeouts timeouts) {
        return s3Builder(endpoint, maxConnections, sdkRetries, timeouts).build();
    }

    /** @param more interceptors after the time limits (a site's bandwidth limit, say) */
    public static S3Client s3(Endpoint endpoint, int maxConnections, boolean sdkRetries, RequestTimeouts timeouts,
                              java.util.List<software.amazon.awssdk.core.interceptor.ExecutionInterceptor> more) {
        return s3Builder(endpoint, maxConnections, sdkRetries, timeouts, more).build();
    }

    /** The S3 client's builder with this project's settings, for a caller that changes one more (the benchmarks). */
    public static software.amazon.awssdk.services.s3.S3ClientBuilder s3Builder(Endpoint endpoint, int maxConnections, boolean sdkRetries,
                                                                                RequestTimeouts timeouts) {
        return s3Builder(endpoint, maxConnections, sdkRetries, timeouts, java.util.List.of());
    }

    private static software.amazon.awssdk.services.s3.S3ClientBuilder s3Builder(Endpoint endpoint, int maxConnections, boolean sdkRetries,
            RequestTimeouts timeouts, java.util.List<software.amazon.awssdk.core.interceptor.ExecutionInterceptor> more) {
        var builder = S3Client.builder()
                .region(Region.of(endpoint.region()))
                .credentialsProvider(credentials(endpoint))
                .httpClientBuilder(ApacheHttpClient.builder()
                        .maxConnections(maxConnections)
                        .connectionTimeout(Duration.ofSeconds(5))
                        .socketTimeout(Duration.ofSeconds(60)))
                .forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        // One override configuration: each call of overrideConfiguration(...) replaces the one before.
        builder.overrideConfiguration(c -> {
            if (!sdkRetries) {
                c.retryStrategy(AwsRetryStrategy.doNotRetry());
            }
            if (timeouts != null) {
                c.addExecutionInterceptor(timeouts);
            }
            more.forEach(c::addExecutionInterceptor);
        });
        if (endpoint.url() != null) {
            builder.endpointOverride(endpoint.uri());
        }
        return builder;
    }

    public static DynamoDbClient dynamoDb(Endpoint endpoint) {
        return dynamoDbBuilder(endpoint).build();
    }

    /** The DynamoDB client's builder with this project's settings, for a caller that changes one more (the benchmarks). */
    public static software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder dynamoDbBuilder(Endpoint endpoint) {
        var builder = DynamoDbClient.builder()
                .region(Region.of(endpoint.region()))
                .credentialsProvider(credentials(endpoint))
                .httpClientBuilder(ApacheHttpClient.builder().maxConnections(32));
        if (endpoint.url() != null) {
            builder.endpointOverride(endpoint.uri());
        }
        return builder;
    }

    public static AwsCredentialsProvider credentials(Endpoint endpoint) {
        if (endpoint.credentialsSecret() != null) {
            return SecretCredentialsProvider.of(endpoint.credentialsSecret());
        }
        if (endpoint.hasStaticCredentials()) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(endpoint.accessKeyId(), endpoint.secretAccessKey()));
        }
        return DefaultCredentialsProvider.builder().build();
    }
}
