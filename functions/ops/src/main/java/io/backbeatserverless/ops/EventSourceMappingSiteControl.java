package io.backbeatserverless.ops;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * {@link SiteControl} in AWS: pausing a site disables its replicator's MSK event source mapping
 * ({@code UpdateEventSourceMapping Enabled=false}), resuming enables it; the consumer group keeps its
 * committed offsets, so replication continues where it stopped. Mapping UUIDs come from
 * {@code ops.eventSourceMappings}, which the CDK stack fills in.
 *
 * <p>The one Lambda API call is made with the SDK's SigV4 signer and HTTP client rather than the SDK's
 * Lambda client, whose 3 MB would push the ops deployment jar past its 20 MB budget for one operation.
 */
public final class EventSourceMappingSiteControl implements SiteControl {

    private final SdkHttpClient http;
    private final AwsCredentialsProvider credentials;
    private final String region;
    private final URI endpoint;
    private final Map<String, String> mappingBySite;

    public EventSourceMappingSiteControl(SdkHttpClient http, AwsCredentialsProvider credentials, String region, URI endpoint,
                                         Map<String, String> mappingBySite) {
        this.http = http;
        this.credentials = credentials;
        this.region = region;
        this.endpoint = endpoint;
        this.mappingBySite = Map.copyOf(mappingBySite);
    }

    /** The Lambda API of the function's own region (AWS_REGION), with the function's credentials. */
    public static EventSourceMappingSiteControl inRegion(String region, Map<String, String> mappingBySite) {
        return new EventSourceMappingSiteControl(ApacheHttpClient.create(), DefaultCredentialsProvider.builder().build(), region,
                URI.create("https://lambda." + region + ".amazonaws.com"), mappingBySite);
    }

    @Override
    public void setEnabled(String site, boolean enabled) {
        String uuid = mappingBySite.get(site);
        if (uuid == null) {
            throw new IllegalStateException("no event source mapping configured for site '" + site + "' (ops.eventSourceMappings)");
        }
        byte[] body = ("{\"Enabled\":" + enabled + "}").getBytes(StandardCharsets.UTF_8);
        SdkHttpFullRequest request = SdkHttpFullRequest.builder().method(SdkHttpMethod.PUT).uri(endpoint)
                .encodedPath("/2015-03-31/event-source-mappings/" + SdkHttpUtils.urlEncode(uuid))
                .putHeader("Content-Type", "application/json").putHeader("Content-Length", Integer.toString(body.length)).build();
        SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r.identity(credentials.resolveCredentials()).request(request)
                .payload(ContentStreamProvider.fromByteArray(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
                .putProperty(AwsV4HttpSigner.REGION_NAME, region));
        try {
            HttpExecuteResponse response = http.prepareRequest(HttpExecuteRequest.builder().request(signed.request())
                    .contentStreamProvider(signed.payload().orElse(null)).build()).call();
            int status = response.httpResponse().statusCode();
            if (status / 100 != 2) {
                String answer = response.responseBody().map(EventSourceMappingSiteControl::text).orElse("");
                throw new IllegalStateException("UpdateEventSourceMapping (Enabled=" + enabled + ") of site '" + site + "', mapping "
                        + uuid + ", failed: HTTP " + status + " " + answer);
            }
            response.responseBody().ifPresent(EventSourceMappingSiteControl::text);
        } catch (IOException e) {
            throw new UncheckedIOException("UpdateEventSourceMapping of site '" + site + "', mapping " + uuid + ": " + e.getMessage(), e);
        }
    }

    private static String text(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable answer: " + e.getMessage() + ")";
        }
    }
}
