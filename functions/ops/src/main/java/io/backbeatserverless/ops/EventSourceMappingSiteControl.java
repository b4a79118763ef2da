package io.backbeatserverless.ops;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.LambdaClientBuilder;

import java.net.URI;
import java.util.Map;

/**
 * {@link SiteControl} in AWS: pausing a site disables its replicator's MSK event source mapping
 * ({@code UpdateEventSourceMapping Enabled=false}), resuming enables it; the consumer group keeps its
 * committed offsets, so replication continues where it stopped. Mapping UUIDs come from
 * {@code ops.eventSourceMappings}, which the CDK stack fills in. The call goes through the SDK's Lambda client, whose
 * endpoint rules resolve the function's own partition (a hand-built {@code lambda.<region>.amazonaws.com} would miss
 * aws-cn and the GovCloud endpoints).
 */
public final class EventSourceMappingSiteControl implements SiteControl {

    private final LambdaClient lambda;
    private final Map<String, String> mappingBySite;

    public EventSourceMappingSiteControl(LambdaClient lambda, Map<String, String> mappingBySite) {
        this.lambda = lambda;
        this.mappingBySite = Map.copyOf(mappingBySite);
    }

    /** @param endpoint an endpoint override (a test's stand-in for Lambda's API), or null for the region's own */
    public EventSourceMappingSiteControl(SdkHttpClient http, AwsCredentialsProvider credentials, String region, URI endpoint,
                                         Map<String, String> mappingBySite) {
        this(client(http, credentials, region, endpoint), mappingBySite);
    }

    /** The Lambda API of the function's own region (AWS_REGION), with the function's credentials. */
    public static EventSourceMappingSiteControl inRegion(String region, Map<String, String> mappingBySite) {
        return new EventSourceMappingSiteControl(ApacheHttpClient.create(), DefaultCredentialsProvider.builder().build(), region, null,
                mappingBySite);
    }

    private static LambdaClient client(SdkHttpClient http, AwsCredentialsProvider credentials, String region, URI endpoint) {
        LambdaClientBuilder builder = LambdaClient.builder().httpClient(http).credentialsProvider(credentials).region(Region.of(region));
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder.build();
    }

    @Override
    public void setEnabled(String site, boolean enabled) {
        String uuid = mappingBySite.get(site);
        if (uuid == null) {
            throw new IllegalStateException("no event source mapping configured for site '" + site + "' (ops.eventSourceMappings)");
        }
        try {
            lambda.updateEventSourceMapping(r -> r.uuid(uuid).enabled(enabled));
        } catch (AwsServiceException e) {
            throw new IllegalStateException("UpdateEventSourceMapping (Enabled=" + enabled + ") of site '" + site + "', mapping " + uuid
                    + ", failed: HTTP " + e.statusCode() + " " + e.awsErrorDetails().errorMessage(), e);
        } catch (SdkException e) {
            throw new IllegalStateException("UpdateEventSourceMapping of site '" + site + "', mapping " + uuid + ": " + e.getMessage(), e);
        }
    }
}
