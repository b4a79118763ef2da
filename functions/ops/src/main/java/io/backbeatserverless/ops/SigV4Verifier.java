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
 * Checks that a request is signed with AWS SigV4 for service {@code execute-api} by a known access key, as the
 * ops API's HTTP API (IAM authorization on every API route) does before invoking the ops function. Locally, the ops
 * HTTP server runs it on every route but the healthcheck and the console's static files. The signature is recomputed
 * from the SigV4 specification over exactly the headers the client signed (the SDK's signer cannot verify: it adds
 * headers of its own), with the SDK's URI encoding, at the client's {@code x-amz-date}, which must be within 15
 * minutes of now. A signed payload hash ({@code x-amz-content-sha256} other than {@code UNSIGNED-PAYLOAD}) must be
 * the body's; a temporary key's requests must carry its session token, signed.
 *
 * <p>Issue 32, by the specification's letter: {@code host} and {@code x-amz-date} must be among the signed headers (a
 * signature that leaves the host out can be replayed to another host); the credential scope's date must be the date of
 * {@code x-amz-date}; and an unsigned payload ({@code UNSIGNED-PAYLOAD}, which does not bind the body to the signature) is
 * refused, unless its access key is one allowed to send one.
 */
public final class SigV4Verifier {

    private static final Pattern AUTHORIZATION = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request,\\s*SignedHeaders=([^,]+),\\s*Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Duration SKEW = Duration.ofMinutes(15);

    /** The signing service of API Gateway, which authorizes the ops API's routes in AWS. */
    public static final String EXECUTE_API = "execute-api";
    private static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

    private final Map<String, Credential> keys;
    private final Clock clock;

    private final String service;
    private final java.util.Set<String> unsignedPayloadAllowed;

    public SigV4Verifier(List<Credential> credentials, Clock clock) {
        this(credentials, clock, EXECUTE_API);
    }

    /** @param service the signing service requests must name ({@value #EXECUTE_API} for API Gateway) */
    public SigV4Verifier(List<Credential> credentials, Clock clock, String service) {
        this(credentials, clock, service, java.util.Set.of());
    }

    /** @param unsignedPayloadAllowed the access keys whose requests may leave their body unsigned ({@code UNSIGNED-PAYLOAD}) */
    public SigV4Verifier(List<Credential> credentials, Clock clock, String service, java.util.Set<String> unsignedPayloadAllowed) {
        this.unsignedPayloadAllowed = java.util.Set.copyOf(unsignedPayloadAllowed);
        this.service = service;
        this.keys = credentials.stream().collect(java.util.stream.Collectors.toMap(Credential::accessKeyId, c -> c));
        this.clock = clock;
    }

    /** Why the request is not authenticated, or null when it is. {@code header} looks a header up case-insensitively. */
    public String rejectReason(String method, String rawPath, String rawQuery, Function<String, String> header, byte[] body) {
        String authorization = header.apply("Authorization");
        if (authorization == null) {
            return "the request is not signed (AWS SigV4, service " + service + ")";
        }
        Matcher m = AUTHORIZATION.matcher(authorization.trim());
        if (!m.matches()) {
            return "the Authorization header is not an AWS4-HMAC-SHA256 signature";
        }
        String accessKey = m.group(1);
        String region = m.group(3);
        String signedService = m.group(4);
        Credential known = keys.get(accessKey);
        if (known == null) {
            return "unknown access key " + accessKey;
        }
        String secret = known.secretAccessKey();
        String token = header.apply("x-amz-security-token");
        if (known.sessionToken() != null && !known.sessionToken().equals(token)) {
            return token == null ? "access key " + accessKey + " is temporary: the request carries no session token (X-Amz-Security-Token)"
                    : "the session token is not the one of access key " + accessKey;
        }
        if (known.sessionToken() == null && token != null) {
            return "a session token came with access key " + accessKey + ", which is not a temporary one";
        }
        if (token != null && !java.util.Arrays.asList(m.group(5).toLowerCase(Locale.ROOT).split(";")).contains("x-amz-security-token")) {
            return "the session token (X-Amz-Security-Token) is not among the signed headers";
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
        if (!amzDate.startsWith(m.group(2))) {
            return "the credential scope's date " + m.group(2) + " is not the date of x-amz-date " + amzDate;
        }
        List<String> signedNames = java.util.Arrays.asList(m.group(5).toLowerCase(Locale.ROOT).split(";"));
        if (!signedNames.contains("host") || !signedNames.contains("x-amz-date")) {
            return "host and x-amz-date must be among the signed headers (SignedHeaders=" + m.group(5) + ")";
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
        String bodyHash = hex(sha256(body == null ? new byte[0] : body));
        String declaredHash = header.apply("x-amz-content-sha256");
        String payloadHash = bodyHash;
        if (declaredHash != null && m.group(5).contains("x-amz-content-sha256")) {
            if (declaredHash.equals(UNSIGNED_PAYLOAD) && !unsignedPayloadAllowed.contains(accessKey)) {
                return "an unsigned payload (x-amz-content-sha256: UNSIGNED-PAYLOAD) is refused: sign the body";
            }
            if (!declaredHash.equals(UNSIGNED_PAYLOAD) && !declaredHash.equalsIgnoreCase(bodyHash)) {
                return "x-amz-content-sha256 is not the SHA-256 of the body";
            }
            payloadHash = declaredHash;
        }
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
