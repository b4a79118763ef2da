package io.backbeatserverless.adapters.cloudserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.Endpoint;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CloudServer's backbeat routes, as Backbeat's own client calls them (AWS SigV4, service {@code s3}):
 * {@code PUT /_/backbeat/data/<bucket>/<key>} stores bytes and answers their locations;
 * {@code PUT /_/backbeat/metadata/<bucket>/<key>?versionId=<external id>} writes a version's whole
 * metadata document, which is how a replica keeps the source's version id.
 */
public final class CloudServerBackbeatRoutes implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern ERROR_CODE = Pattern.compile("<Code>([^<]*)</Code>");
    private static final Pattern ERROR_MESSAGE = Pattern.compile("<Message>([^<]*)</Message>");

    private final URI endpoint;
    private final String region;
    private final AwsCredentialsIdentity credentials;
    private final SdkHttpClient http;
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();

    /**
     * Routes on their own HTTP client: the SDK's Apache client with {@code Expect: 100-continue} off. CloudServer
     * answers {@code 100 Continue} only on its S3 object PUTs, not on these routes, so a client that sends the
     * header waits its whole continue timeout (3 s) before each body: every write-back and every PUT to a
     * CloudServer site would stall that long.
     */
    public CloudServerBackbeatRoutes(Endpoint endpoint, int maxConnections) {
        this(endpoint, ApacheHttpClient.builder().maxConnections(maxConnections).expectContinueEnabled(false).build());
    }

    CloudServerBackbeatRoutes(Endpoint endpoint, SdkHttpClient http) {
        this.endpoint = endpoint.uri();
        this.region = endpoint.region();
        var resolved = AwsClients.credentials(endpoint).resolveCredentials();
        this.credentials = AwsCredentialsIdentity.create(resolved.accessKeyId(), resolved.secretAccessKey());
        this.http = http;
    }

    /** Stores {@code length} bytes and returns CloudServer's locations array. The body is streamed, its payload unsigned. */
    public JsonNode putData(String bucket, String key, InputStream body, long length, String md5Hex, String canonicalId) throws IOException {
        SdkHttpFullRequest.Builder request = request(SdkHttpMethod.PUT, "/_/backbeat/data/" + bucket + "/" + key)
                .putRawQueryParameter("v2", (String) null)
                .putHeader("Content-Length", Long.toString(length))
                .putHeader("X-Scal-Canonical-Id", canonicalId == null ? "" : canonicalId);
        if (md5Hex != null) {
            request.putHeader("Content-MD5", md5Hex);
        }
        return MAPPER.readTree(execute(request.build(), ContentStreamProvider.fromInputStream(body), false));
    }

    /** Writes the version's metadata; {@code metadataOnly} keeps the data already there (a tag or ACL change). */
    public void putMetadata(String bucket, String key, String externalVersionId, String metadataJson, boolean metadataOnly) throws IOException {
        byte[] body = metadataJson.getBytes(StandardCharsets.UTF_8);
        SdkHttpFullRequest.Builder request = request(SdkHttpMethod.PUT, "/_/backbeat/metadata/" + bucket + "/" + key)
                .putRawQueryParameter("versionId", externalVersionId)
                .putHeader("Content-Length", Integer.toString(body.length))
                .putHeader("Content-Type", "application/json");
        if (metadataOnly) {
            request.putHeader("x-scal-replication-content", "METADATA");
        }
        execute(request.build(), ContentStreamProvider.fromByteArray(body), true);
    }

    /** The version's metadata document as CloudServer stores it ({@code GET /_/backbeat/metadata}, answer {@code {"Body": "<json>"}}). */
    public String getMetadata(String bucket, String key, String externalVersionId) throws IOException {
        SdkHttpFullRequest request = request(SdkHttpMethod.GET, "/_/backbeat/metadata/" + bucket + "/" + key)
                .putRawQueryParameter("versionId", externalVersionId).build();
        JsonNode answer = MAPPER.readTree(execute(request, ContentStreamProvider.fromByteArray(new byte[0]), true));
        if (answer == null || !answer.path("Body").isTextual()) {
            throw new IOException("GET /_/backbeat/metadata answered without a Body");
        }
        return answer.get("Body").asText();
    }

    private SdkHttpFullRequest.Builder request(SdkHttpMethod method, String path) {
        return SdkHttpFullRequest.builder().method(method).uri(endpoint).encodedPath(encodePath(path));
    }

    private String execute(SdkHttpFullRequest request, ContentStreamProvider payload, boolean signPayload) throws IOException {
        // A streamed body is sent unsigned (UNSIGNED-PAYLOAD), so the signer must not read it: it can be read once.
        SignedRequest signed = signer.sign(r -> r.identity(credentials).request(request).payload(signPayload ? payload : null)
                .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, "s3")
                .putProperty(AwsV4FamilyHttpSigner.DOUBLE_URL_ENCODE, false)
                .putProperty(AwsV4FamilyHttpSigner.NORMALIZE_PATH, false)
                .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, signPayload));
        HttpExecuteResponse response = http.prepareRequest(HttpExecuteRequest.builder()
                .request(signed.request()).contentStreamProvider(payload).build()).call();
        String body;
        try (InputStream in = response.responseBody().map(InputStream.class::cast).orElse(InputStream.nullInputStream())) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int status = response.httpResponse().statusCode();
        if (status >= 300) {
            String where = request.method() + " " + request.encodedPath();
            throw AwsServiceException.builder().statusCode(status).message(body)
                    .awsErrorDetails(AwsErrorDetails.builder().serviceName("CloudServer")
                            .errorCode(errorField(body, "code", ERROR_CODE, "HTTP" + status))
                            .errorMessage(errorField(body, "message", ERROR_MESSAGE, "") + (body.isBlank() ? "" : " ") + "(" + where + ")")
                            .build())
                    .build();
        }
        return body;
    }

    /**
     * A field of CloudServer's error answer: its backbeat routes answer JSON ({@code {"code","message"}}), its S3
     * routes XML ({@code <Code>}, {@code <Message>}); the reason an operator reads must carry what it says.
     */
    private static String errorField(String body, String jsonField, Pattern xmlField, String fallback) {
        if (body.stripLeading().startsWith("{")) {
            try {
                JsonNode error = MAPPER.readTree(body);
                if (error.path(jsonField).isTextual()) {
                    return error.path(jsonField).asText();
                }
            } catch (IOException notJson) {
                // fall through to the XML form
            }
        }
        return first(xmlField, body, fallback);
    }

    private static String first(Pattern pattern, String body, String fallback) {
        Matcher m = pattern.matcher(body);
        return m.find() ? m.group(1) : fallback;
    }

    /** Encodes each path segment as S3 expects (RFC 3986, '/' kept between segments). */
    static String encodePath(String path) {
        StringBuilder out = new StringBuilder();
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
                out.append((char) c);
            } else {
                out.append('%').append(String.format("%02X", c));
            }
        }
        return out.toString();
    }

    @Override
    public void close() {
        http.close();
    }
}
