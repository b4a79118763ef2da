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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Checks that a request is signed with AWS SigV4 for service {@code execute-api} by a known access key, as the ops API's
 * HTTP API (IAM authorization on every API route) does before invoking the ops function. Locally, the ops HTTP server
 * runs it on every route but the console's static files. The signature is recomputed from the SigV4 specification
 * ("Create a canonical request for Signature Version 4", AWS IAM User Guide) over exactly the headers the client signed
 * (the SDK's signer cannot verify: it adds headers of its own), at the client's {@code x-amz-date}, which must be within
 * 15 minutes of now. AWS's published test suite (botocore's copy, under this module's test resources) passes whole.
 *
 * <p>By the specification's letter (issue 32):
 * <ul>
 * <li>the canonical URI is the path normalized (dot segments and repeated slashes removed, as for every service but S3)
 *     and URI-encoded once more; a header's values are joined with commas, each trimmed, inner spaces collapsed;</li>
 * <li>{@code host} and {@code x-amz-date} must be among the signed headers (a signature that leaves the host out can be
 *     replayed to another host, one that leaves the date out to another time);</li>
 * <li>the credential scope's date must be the date of {@code x-amz-date}, its region this API's region, its service
 *     this API's service;</li>
 * <li>a declared payload hash ({@code x-amz-content-sha256}) must be the body's; {@code UNSIGNED-PAYLOAD}, which does not
 *     bind the body to the signature, is refused unless the access key's configuration allows it
 *     ({@link Credential#unsignedPayload()});</li>
 * <li>a temporary key's requests must carry its session token, signed;</li>
 * <li>a signature is accepted at most once: its first use is remembered until its date leaves the 15-minute window, in
 *     a bounded cache ({@value #REPLAY_CACHE_ENTRIES} signatures). Two identical requests in the same second carry the
 *     same signature, so clients that may send them add a header of their own with a random value (ours send
 *     {@value #REQUEST_ID_HEADER}).</li>
 * </ul>
 * Why a request was refused is for the server's log only: callers get one 403 body whatever the reason, so that nothing,
 * not even whether an access key exists, can be learnt by trying.
 */
public final class SigV4Verifier {

    private static final Pattern AUTHORIZATION = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request,\\s*SignedHeaders=([^,]+),\\s*Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Duration SKEW = Duration.ofMinutes(15);

    /** The signing service of API Gateway, which authorizes the ops API's routes in AWS. */
    public static final String EXECUTE_API = "execute-api";
    /** The region the local ops API expects in a signature's scope unless configured otherwise ({@code ops.region}). */
    public static final String DEFAULT_REGION = "us-east-1";
    /** A header our clients sign with a random value, so that two identical requests in one second differ. */
    public static final String REQUEST_ID_HEADER = "x-backbeat-request-id";
    /** The most signatures remembered at once: about 20 MB, or 55 signed requests a second for 30 minutes. */
    static final int REPLAY_CACHE_ENTRIES = 100_000;
    private static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

    private final Map<String, Credential> keys;
    private final Clock clock;
    private final String service;
    private final String region;
    private final ReplayCache replays = new ReplayCache(REPLAY_CACHE_ENTRIES);

    /** The ops API's verifier: service {@value #EXECUTE_API}, region {@value #DEFAULT_REGION}. */
    public SigV4Verifier(List<Credential> credentials, Clock clock) {
        this(credentials, clock, EXECUTE_API, DEFAULT_REGION);
    }

    /**
     * @param service the signing service requests must name ({@value #EXECUTE_API} for API Gateway)
     * @param region  the region requests must be signed for
     */
    public SigV4Verifier(List<Credential> credentials, Clock clock, String service, String region) {
        this.service = service;
        this.region = region;
        this.keys = credentials.stream().collect(Collectors.toMap(Credential::accessKeyId, c -> c));
        this.clock = clock;
    }

    /**
     * Why the request is not authenticated, or null when it is (and its signature is then used up).
     *
     * @param rawPath   the path as it came, percent-encoded
     * @param rawQuery  the query as it came, percent-encoded, or null
     * @param headers   a header's values, looked up case-insensitively (empty or null when absent)
     */
    public String rejectReason(String method, String rawPath, String rawQuery, Function<String, List<String>> headers, byte[] body) {
        Function<String, String> header = name -> {
            List<String> values = headers.apply(name);
            return values == null || values.isEmpty() ? null : values.getFirst();
        };
        String authorization = header.apply("Authorization");
        if (authorization == null) {
            return "the request is not signed (AWS SigV4, service " + service + ")";
        }
        Matcher m = AUTHORIZATION.matcher(authorization.trim());
        if (!m.matches()) {
            return "the Authorization header is not an AWS4-HMAC-SHA256 signature";
        }
        String accessKey = m.group(1);
        String scopeDate = m.group(2);
        String signedRegion = m.group(3);
        String signedService = m.group(4);
        List<String> signedNames = Arrays.asList(m.group(5).toLowerCase(Locale.ROOT).split(";"));
        Credential known = keys.get(accessKey);
        if (known == null) {
            return "unknown access key " + accessKey;
        }
        String token = header.apply("x-amz-security-token");
        if (known.sessionToken() != null && !known.sessionToken().equals(token)) {
            return token == null ? "access key " + accessKey + " is temporary: the request carries no session token (X-Amz-Security-Token)"
                    : "the session token is not the one of access key " + accessKey;
        }
        if (known.sessionToken() == null && token != null) {
            return "a session token came with access key " + accessKey + ", which is not a temporary one";
        }
        if (token != null && !signedNames.contains("x-amz-security-token")) {
            return "the session token (X-Amz-Security-Token) is not among the signed headers";
        }
        if (!service.equals(signedService)) {
            return "signed for service '" + signedService + "', expected '" + service + "'";
        }
        if (!region.equals(signedRegion)) {
            return "signed for region '" + signedRegion + "', expected '" + region + "'";
        }
        String amzDate = header.apply("x-amz-date");
        Instant signedAt;
        try {
            signedAt = ZonedDateTime.parse(amzDate, AMZ_DATE).toInstant();
        } catch (RuntimeException e) {
            return "x-amz-date is missing or malformed";
        }
        Instant now = clock.instant();
        if (Duration.between(signedAt, now).abs().compareTo(SKEW) > 0) {
            return "the signature's date " + amzDate + " is more than 15 minutes from now";
        }
        if (!amzDate.startsWith(scopeDate)) {
            return "the credential scope's date " + scopeDate + " is not the date of x-amz-date " + amzDate;
        }
        if (!signedNames.contains("host") || !signedNames.contains("x-amz-date")) {
            return "host and x-amz-date must be among the signed headers (SignedHeaders=" + m.group(5) + ")";
        }
        StringBuilder canonicalHeaders = new StringBuilder();
        for (String name : signedNames) {
            List<String> values = headers.apply(name);
            if (values == null || values.isEmpty()) {
                return "signed header " + name + " is missing";
            }
            canonicalHeaders.append(name).append(':')
                    .append(values.stream().map(v -> v.trim().replaceAll(" +", " ")).collect(Collectors.joining(","))).append('\n');
        }
        String bodyHash = hex(sha256(body == null ? new byte[0] : body));
        String declaredHash = header.apply("x-amz-content-sha256");
        String payloadHash = bodyHash;
        if (declaredHash != null) {
            if (declaredHash.equals(UNSIGNED_PAYLOAD)) {
                if (!known.unsignedPayload()) {
                    return "an unsigned payload (x-amz-content-sha256: UNSIGNED-PAYLOAD) is refused: sign the body";
                }
            } else if (!declaredHash.equalsIgnoreCase(bodyHash)) {
                return "x-amz-content-sha256 is not the SHA-256 of the body";
            }
            payloadHash = declaredHash;
        }
        String canonicalRequest = String.join("\n", method.toUpperCase(Locale.ROOT), canonicalUri(rawPath),
                canonicalQuery(rawQuery), canonicalHeaders.toString(), String.join(";", signedNames), payloadHash);
        String scope = scopeDate + "/" + region + "/" + service + "/aws4_request";
        String stringToSign = String.join("\n", "AWS4-HMAC-SHA256", amzDate, scope,
                hex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8))));
        byte[] key = hmac(("AWS4" + known.secretAccessKey()).getBytes(StandardCharsets.UTF_8), scopeDate);
        for (String part : List.of(region, service, "aws4_request")) {
            key = hmac(key, part);
        }
        String expected = hex(hmac(key, stringToSign));
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), m.group(6).getBytes(StandardCharsets.US_ASCII))) {
            return "the signature does not match";
        }
        return replays.firstUse(m.group(6), signedAt.plus(SKEW), now);
    }

    /**
     * The path with its dot segments and repeated slashes removed (RFC 3986 section 5.2.4, as SigV4 normalizes every
     * service's path but S3's), each segment URI-encoded once more (the path came percent-encoded: SigV4 encodes it twice).
     */
    static String canonicalUri(String rawPath) {
        if (rawPath == null || rawPath.isEmpty()) {
            return "/";
        }
        ArrayDeque<String> segments = new ArrayDeque<>();
        for (String segment : rawPath.split("/")) {
            if (segment.isEmpty() || segment.equals(".")) {
                continue;
            }
            if (segment.equals("..")) {
                segments.pollLast();
            } else {
                segments.addLast(segment);
            }
        }
        boolean trailingSlash = rawPath.endsWith("/") || rawPath.endsWith("/.") || rawPath.endsWith("/..");
        String path = "/" + String.join("/", segments) + (trailingSlash && !segments.isEmpty() ? "/" : "");
        return SdkHttpUtils.urlEncodeIgnoreSlashes(path);
    }

    /** Query parameters decoded, re-encoded per RFC 3986, sorted by name then value. */
    private static String canonicalQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return "";
        }
        List<String[]> params = new ArrayList<>();
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.add(new String[]{SdkHttpUtils.urlEncode(name), SdkHttpUtils.urlEncode(value)});
        }
        params.sort(Comparator.<String[], String>comparing(p -> p[0]).thenComparing(p -> p[1]));
        return params.stream().map(p -> p[0] + "=" + p[1]).collect(Collectors.joining("&"));
    }

    /**
     * The signatures already used, each until its date leaves the skew window (after which the date check refuses it
     * anyway). Bounded: when full of signatures still in their window, a new one is refused rather than an old one
     * forgotten, since forgetting would let the old one be replayed.
     */
    private static final class ReplayCache {
        private final int capacity;
        private final Map<String, Instant> expiries = new HashMap<>();
        private final ArrayDeque<String> arrivals = new ArrayDeque<>();

        ReplayCache(int capacity) {
            this.capacity = capacity;
        }

        synchronized String firstUse(String signature, Instant expiresAt, Instant now) {
            while (!arrivals.isEmpty() && !expiries.get(arrivals.peekFirst()).isAfter(now)) {
                expiries.remove(arrivals.pollFirst());
            }
            if (expiries.containsKey(signature)) {
                return "the signature was used before (a replayed request)";
            }
            if (expiries.size() >= capacity) {
                expiries.values().removeIf(expiry -> !expiry.isAfter(now));
                arrivals.removeIf(s -> !expiries.containsKey(s));
                if (expiries.size() >= capacity) {
                    return "more than " + capacity + " signed requests within 15 minutes: the replay cache is full";
                }
            }
            expiries.put(signature, expiresAt);
            arrivals.addLast(signature);
            return null;
        }
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
        return HexFormat.of().formatHex(bytes);
    }
}
