package io.backbeatserverless.ops;

import io.backbeatserverless.adapters.config.BackbeatConfig.Credential;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks that a request is signed with AWS SigV4 for service {@code lambda} by a known access key, as an
 * IAM-authenticated Function URL does before invoking the ops function. Locally, the ops HTTP server
 * runs it on every route but the healthcheck and the console page. The signature is recomputed with
 * the AWS SDK's own signer over the headers the client signed, at the client's {@code x-amz-date}, which
 * must be within 15 minutes of now.
 */
public final class SigV4Verifier {

    private static final Pattern AUTHORIZATION = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request,\\s*SignedHeaders=([^,]+),\\s*Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Duration SKEW = Duration.ofMinutes(15);

    private final Map<String, String> secrets;
    private final Clock clock;
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();

    public SigV4Verifier(List<Credential> credentials, Clock clock) {
        this.secrets = credentials.stream().collect(java.util.stream.Collectors.toMap(Credential::accessKeyId, Credential::secretAccessKey));
        this.clock = clock;
    }

    /** Why the request is not authenticated, or null when it is. {@code header} looks a header up case-insensitively. */
    public String rejectReason(String method, String rawPath, String rawQuery, Function<String, String> header, byte[] body) {
        String authorization = header.apply("Authorization");
        if (authorization == null) {
            return "the request is not signed (AWS SigV4, service lambda)";
        }
        Matcher m = AUTHORIZATION.matcher(authorization.trim());
        if (!m.matches()) {
            return "the Authorization header is not an AWS4-HMAC-SHA256 signature";
        }
        String accessKey = m.group(1);
        String region = m.group(3);
        String service = m.group(4);
        String secret = secrets.get(accessKey);
        if (secret == null) {
            return "unknown access key " + accessKey;
        }
        if (!"lambda".equals(service)) {
            return "signed for service '" + service + "', expected 'lambda'";
        }
        String amzDate = header.apply("x-amz-date");
        Instant signedAt;
        try {
            signedAt = ZonedDateTime.parse(amzDate, AMZ_DATE).toInstant();
        } catch (RuntimeException e) {
            return "x-amz-date is missing or malformed";
        }
        if (Duration.between(signedAt, clock.instant()).abs().compareTo(SKEW) > 0) {
            return "the signature's date " + amzDate + " is more than 15 minutes from now";
        }
        String host = header.apply("Host");
        if (host == null) {
            return "no Host header";
        }
        SdkHttpFullRequest.Builder request = SdkHttpFullRequest.builder().method(SdkHttpMethod.fromValue(method.toUpperCase(Locale.ROOT)))
                .protocol("http").host(host.contains(":") ? host.substring(0, host.indexOf(':')) : host)
                .encodedPath(rawPath == null || rawPath.isEmpty() ? "/" : rawPath);
        if (host.contains(":")) {
            request.port(Integer.parseInt(host.substring(host.indexOf(':') + 1)));
        }
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                int eq = pair.indexOf('=');
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                request.appendRawQueryParameter(name, value);
            }
        }
        for (String name : m.group(5).split(";")) {
            String value = header.apply(name);
            if (value == null) {
                return "signed header " + name + " is missing";
            }
            request.putHeader(name, value);
        }
        String expected;
        try {
            var signed = signer.sign(r -> r.identity(AwsCredentialsIdentity.create(accessKey, secret))
                    .request(request.build()).payload(ContentStreamProvider.fromByteArray(body == null ? new byte[0] : body))
                    .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                    .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, service)
                    .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(signedAt, ZoneOffset.UTC)));
            expected = signed.request().firstMatchingHeader("Authorization").orElse("");
        } catch (RuntimeException e) {
            return "the signature cannot be checked: " + e.getMessage();
        }
        Matcher e = AUTHORIZATION.matcher(expected);
        if (!e.matches() || !MessageDigest.isEqual(e.group(6).getBytes(StandardCharsets.US_ASCII), m.group(6).getBytes(StandardCharsets.US_ASCII))) {
            return "the signature does not match";
        }
        return null;
    }
}
