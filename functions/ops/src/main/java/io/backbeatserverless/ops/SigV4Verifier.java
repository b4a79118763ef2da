package io.backbeatserverless.ops;

import io.backbeatserverless.adapters.config.BackbeatConfig.Credential;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

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
 * runs it on every route but the healthcheck and the console page. The signature is recomputed from the
 * SigV4 specification over exactly the headers the client signed (the SDK's signer cannot verify: it
 * adds headers of its own), with the SDK's URI encoding, at the client's {@code x-amz-date}, which must
 * be within 15 minutes of now.
 */
public final class SigV4Verifier {

    private static final Pattern AUTHORIZATION = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request,\\s*SignedHeaders=([^,]+),\\s*Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Duration SKEW = Duration.ofMinutes(15);

    private final Map<String, String> secrets;
    private final Clock clock;

    private final String service;

    public SigV4Verifier(List<Credential> credentials, Clock clock) {
        this(credentials, clock, "lambda");
    }

    /** @param service the signing service requests must name ({@code lambda} for Function URLs) */
    public SigV4Verifier(List<Credential> credentials, Clock clock, String service) {
        this.service = service;
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
        String signedService = m.group(4);
        String secret = secrets.get(accessKey);
        if (secret == null) {
            return "unknown access key " + accessKey;
        }
        if (!service.equals(signedService)) {
            return "signed for service '" + signedService + "', expected '" + service + "'";
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
        String[] signedHeaders = m.group(5).split(";");
        StringBuilder canonicalHeaders = new StringBuilder();
        for (String name : signedHeaders) {
            String value = header.apply(name);
            if (value == null) {
                return "signed header " + name + " is missing";
            }
            canonicalHeaders.append(name.toLowerCase(Locale.ROOT)).append(':').append(value.trim().replaceAll(" +", " ")).append('\n');
        }
        String payloadHash = header.apply("x-amz-content-sha256") != null && m.group(5).contains("x-amz-content-sha256")
                ? header.apply("x-amz-content-sha256") : hex(sha256(body == null ? new byte[0] : body));
        String canonicalRequest = String.join("\n", method.toUpperCase(Locale.ROOT),
                SdkHttpUtils.urlEncodeIgnoreSlashes(rawPath == null || rawPath.isEmpty() ? "/" : rawPath),
                canonicalQuery(rawQuery), canonicalHeaders.toString(), m.group(5), payloadHash);
        String scope = m.group(2) + "/" + region + "/" + service + "/aws4_request";
        String stringToSign = String.join("\n", "AWS4-HMAC-SHA256", amzDate, scope,
                hex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8))));
        byte[] key = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), m.group(2));
        for (String part : List.of(region, service, "aws4_request")) {
            key = hmac(key, part);
        }
        String expected = hex(hmac(key, stringToSign));
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), m.group(6).getBytes(StandardCharsets.US_ASCII))) {
            return "the signature does not match";
        }
        return null;
    }

    /** Query parameters decoded, re-encoded per RFC 3986, sorted by name then value. */
    private static String canonicalQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return "";
        }
        List<String[]> params = new java.util.ArrayList<>();
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.add(new String[]{SdkHttpUtils.urlEncode(name), SdkHttpUtils.urlEncode(value)});
        }
        params.sort(java.util.Comparator.<String[], String>comparing(p -> p[0]).thenComparing(p -> p[1]));
        return String.join("&", params.stream().map(p -> p[0] + "=" + p[1]).toList());
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }
}
