package io.backbeatserverless.ops;

import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Calls the ops API with AWS SigV4 (service {@code execute-api}), as the CLI and scripts do; the same client works
 * against the ops API's HTTP API in AWS and the local server. Temporary credentials sign with their session token.
 */
public final class OpsClient {

    /** A response: HTTP status and body. */
    public record Reply(int status, String body) {
    }

    private final URI endpoint;
    private final AwsCredentialsIdentity credentials;
    private final String region;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();

    public OpsClient(URI endpoint, String accessKeyId, String secretAccessKey, String region) {
        this(endpoint, accessKeyId == null ? null : AwsCredentialsIdentity.create(accessKeyId, secretAccessKey), region);
    }

    /** @param credentials long-term or temporary ({@code AwsSessionCredentialsIdentity}); null: requests go unsigned */
    public OpsClient(URI endpoint, AwsCredentialsIdentity credentials, String region) {
        this.endpoint = endpoint;
        this.credentials = credentials;
        this.region = region;
    }

    /** {@code path} is the encoded path, e.g. {@code /_/crr/failed}; {@code query} values are not encoded. */
    public Reply call(String method, String path, Map<String, String> query, String body) throws IOException, InterruptedException {
        return call(method, path, query, Map.of(), body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A call with headers of the caller's (signed with the rest) and a body of any bytes (null: none; with one, the
     * Content-Type is JSON unless {@code headers} say otherwise).
     */
    public Reply call(String method, String path, Map<String, String> query, Map<String, String> headers, byte[] body)
            throws IOException, InterruptedException {
        byte[] payload = body == null ? new byte[0] : body;
        SdkHttpFullRequest.Builder request = SdkHttpFullRequest.builder().method(SdkHttpMethod.fromValue(method))
                .uri(endpoint).encodedPath(path);
        query.forEach(request::putRawQueryParameter);
        if (body != null) {
            request.putHeader("Content-Type", "application/json");
        }
        headers.forEach(request::putHeader);
        // Signed with the rest: two identical calls in one second would otherwise carry one signature, which the ops API
        // accepts once (its replay cache).
        request.putHeader(SigV4Verifier.REQUEST_ID_HEADER, java.util.UUID.randomUUID().toString());
        SdkHttpFullRequest unsigned = request.build();
        software.amazon.awssdk.http.SdkHttpRequest signed = credentials == null ? unsigned : signer.sign(r -> r.identity(credentials).request(unsigned)
                .payload(ContentStreamProvider.fromByteArray(payload))
                .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, SigV4Verifier.EXECUTE_API)).request();
        HttpRequest.Builder http = HttpRequest.newBuilder(signed.getUri()).timeout(Duration.ofSeconds(30))
                .method(method, payload.length == 0 && body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(payload));
        signed.headers().forEach((name, values) -> {
            if (!name.equalsIgnoreCase("Host") && !name.equalsIgnoreCase("Content-Length")) {
                values.forEach(v -> http.header(name, v));
            }
        });
        HttpResponse<String> response = this.http.send(http.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(response.statusCode(), response.body());
    }
}
