package io.backbeatserverless.ops;

import io.backbeatserverless.adapters.config.BackbeatConfig.Credential;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The verifier against AWS's published SigV4 test suite ("get-vanilla" and friends) and against tampering. */
class SigV4VerifierTest {

    private static final Clock AT_SIGNING = Clock.fixed(Instant.parse("2015-08-30T12:36:00Z"), ZoneOffset.UTC);
    private final SigV4Verifier verifier = new SigV4Verifier(
            List.of(new Credential("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")), AT_SIGNING, "service", "us-east-1");

    @Test
    void acceptsTheTestSuitesVanillaGet() {
        assertThat(verifier.rejectReason("GET", "/", null, headers(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                        + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), new byte[0])).isNull();
    }

    @Test
    void refusesTamperedUnknownStaleOrUnsignedRequests() {
        String good = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        assertThat(verifier.rejectReason("POST", "/", null, headers(good), new byte[0])).isEqualTo("the signature does not match");
        assertThat(verifier.rejectReason("GET", "/other", null, headers(good), new byte[0])).isEqualTo("the signature does not match");
        assertThat(verifier.rejectReason("GET", "/", "a=b", headers(good), new byte[0])).isEqualTo("the signature does not match");
        assertThat(verifier.rejectReason("GET", "/", null, headers(good.replace("AKIDEXAMPLE", "SOMEONE")), new byte[0]))
                .isEqualTo("unknown access key SOMEONE");
        assertThat(verifier.rejectReason("GET", "/", null, headers(good.replace("/service/", "/s3/")), new byte[0]))
                .contains("expected 'service'");
        assertThat(verifier.rejectReason("GET", "/", null, name -> List.of(), new byte[0])).contains("not signed");
        SigV4Verifier later = new SigV4Verifier(List.of(new Credential("AKIDEXAMPLE", "x")),
                Clock.offset(AT_SIGNING, java.time.Duration.ofMinutes(16)), "service", "us-east-1");
        assertThat(later.rejectReason("GET", "/", null, headers(good), new byte[0])).contains("more than 15 minutes");
    }

    /** Issue 16: a declared payload hash must be the body's; a temporary key must come with its own token, signed. */
    @Test
    void checksTheDeclaredBodyHashAndATemporaryKeysSessionToken() {
        Clock now = Clock.systemUTC();
        SigV4Verifier api = new SigV4Verifier(List.of(new Credential("ASIATEMPORARY", "temporary/secret", "the-token"),
                new Credential("AKIALONGTERM", "long/secret")), now);
        byte[] body = "{\"Bucket\":\"b\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String bodyHash = java.util.HexFormat.of().formatHex(sha256(body));

        var temporary = signed(software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity.create("ASIATEMPORARY",
                "temporary/secret", "the-token"), bodyHash, body);
        assertThat(api.rejectReason("POST", "/_/crr/failed", null, temporary, body)).isNull();
        assertThat(api.rejectReason("POST", "/_/crr/failed", null, temporary, "{\"Bucket\":\"x\"}".getBytes()))
                .isEqualTo("x-amz-content-sha256 is not the SHA-256 of the body");
        assertThat(api.rejectReason("POST", "/_/crr/failed", null, name -> name.equalsIgnoreCase("x-amz-security-token") ? List.of()
                : temporary.apply(name), body)).contains("carries no session token");
        var otherToken = signed(software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity.create("ASIATEMPORARY",
                "temporary/secret", "another-token"), bodyHash, body);
        assertThat(api.rejectReason("POST", "/_/crr/failed", null, otherToken, body)).contains("not the one of access key ASIATEMPORARY");

    }

    /** Issue 32: an unsigned payload does not bind the body to the signature: refused, but for a key allowed to send one. */
    @Test
    void refusesAnUnsignedPayloadButForAKeyAllowedOne() {
        var longTerm = signed(software.amazon.awssdk.identity.spi.AwsCredentialsIdentity.create("AKIALONGTERM", "long/secret"), "UNSIGNED-PAYLOAD",
                new byte[0]);
        SigV4Verifier strict = new SigV4Verifier(List.of(new Credential("AKIALONGTERM", "long/secret")), Clock.systemUTC());
        assertThat(strict.rejectReason("POST", "/_/crr/failed", null, longTerm, "anything".getBytes()))
                .isEqualTo("an unsigned payload (x-amz-content-sha256: UNSIGNED-PAYLOAD) is refused: sign the body");
        SigV4Verifier allowing = new SigV4Verifier(List.of(new Credential("AKIALONGTERM", "long/secret", null, true)), Clock.systemUTC());
        assertThat(allowing.rejectReason("POST", "/_/crr/failed", null, longTerm, "anything".getBytes())).isNull();
    }

    /**
     * Issue 32: a signature that leaves out the host can be replayed to another host, one that leaves out x-amz-date to
     * another time; and the scope's date must be the signature's. Each is refused though the signature is right.
     */
    @Test
    void refusesASignatureThatLeavesOutTheHostOrTheDateOrWhoseScopeIsAnotherDay() {
        Clock now = Clock.systemUTC();
        SigV4Verifier api = new SigV4Verifier(List.of(new Credential("AKIALONGTERM", "long/secret")), now);
        var identity = software.amazon.awssdk.identity.spi.AwsCredentialsIdentity.create("AKIALONGTERM", "long/secret");
        var withoutHost = signedWithout(identity, "host");
        assertThat(api.rejectReason("GET", "/_/crr/failed", null, withoutHost, new byte[0]))
                .startsWith("host and x-amz-date must be among the signed headers");
        var withoutDate = signedWithout(identity, "x-amz-date");
        assertThat(api.rejectReason("GET", "/_/crr/failed", null, withoutDate, new byte[0]))
                .startsWith("host and x-amz-date must be among the signed headers");
        // The published suite's vanilla GET, with x-amz-date moved to the next day's first minute (the scope still says the 30th).
        SigV4Verifier atMidnight = new SigV4Verifier(List.of(new Credential("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")),
                Clock.fixed(Instant.parse("2015-08-31T00:00:30Z"), ZoneOffset.UTC), "service", "us-east-1");
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.put("Host", "example.amazonaws.com");
        h.put("X-Amz-Date", "20150831T000000Z");
        h.put("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        assertThat(atMidnight.rejectReason("GET", "/", null, single(h::get), new byte[0]))
                .isEqualTo("the credential scope's date 20150830 is not the date of x-amz-date 20150831T000000Z");
    }

    /** Issue 32: a signature is good once; a replay, even a second later, is refused, whatever its method. */
    @Test
    void acceptsASignatureOnce() {
        String good = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        assertThat(verifier.rejectReason("GET", "/", null, headers(good), new byte[0])).isNull();
        assertThat(verifier.rejectReason("GET", "/", null, headers(good), new byte[0]))
                .isEqualTo("the signature was used before (a replayed request)");

        byte[] body = "[]".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var identity = software.amazon.awssdk.identity.spi.AwsCredentialsIdentity.create("AKIALONGTERM", "long/secret");
        var retry = signed(identity, java.util.HexFormat.of().formatHex(sha256(body)), body);
        SigV4Verifier api = new SigV4Verifier(List.of(new Credential("AKIALONGTERM", "long/secret")), Clock.systemUTC());
        assertThat(api.rejectReason("POST", "/_/crr/failed", null, retry, body)).isNull();
        assertThat(api.rejectReason("POST", "/_/crr/failed", null, retry, body)).isEqualTo("the signature was used before (a replayed request)");
    }

    /** Issue 32: the scope's region must be the API's (a signature for one region's API is no good at another's). */
    @Test
    void refusesASignatureForAnotherRegion() {
        String good = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        SigV4Verifier inParis = new SigV4Verifier(List.of(new Credential("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")),
                AT_SIGNING, "service", "eu-west-3");
        assertThat(inParis.rejectReason("GET", "/", null, headers(good), new byte[0])).isEqualTo("signed for region 'us-east-1', expected 'eu-west-3'");
    }

    /** A request signed by the SDK, then with {@code left} taken out of its signed headers and the signature made again by hand. */
    private static java.util.function.Function<String, List<String>> signedWithout(software.amazon.awssdk.identity.spi.AwsCredentialsIdentity identity,
                                                                            String left) {
        String amzDate = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.put("Host", "abc.execute-api.us-east-1.amazonaws.com");
        h.put("X-Amz-Date", amzDate);
        String signedHeaders = left.equals("host") ? "x-amz-date" : "host";
        String canonicalHeaders = (left.equals("host") ? "x-amz-date:" + amzDate : "host:" + h.get("Host")) + "\n";
        String canonical = String.join("\n", "GET", "/_/crr/failed", "", canonicalHeaders, signedHeaders,
                java.util.HexFormat.of().formatHex(sha256(new byte[0])));
        String scope = amzDate.substring(0, 8) + "/us-east-1/execute-api/aws4_request";
        String toSign = String.join("\n", "AWS4-HMAC-SHA256", amzDate, scope,
                java.util.HexFormat.of().formatHex(sha256(canonical.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        byte[] key = hmac(("AWS4" + identity.secretAccessKey()).getBytes(java.nio.charset.StandardCharsets.UTF_8), amzDate.substring(0, 8));
        for (String part : List.of("us-east-1", "execute-api", "aws4_request")) {
            key = hmac(key, part);
        }
        h.put("Authorization", "AWS4-HMAC-SHA256 Credential=" + identity.accessKeyId() + "/" + scope + ", SignedHeaders=" + signedHeaders
                + ", Signature=" + java.util.HexFormat.of().formatHex(hmac(key, toSign)));
        return single(h::get);
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.util.function.Function<String, List<String>> signed(software.amazon.awssdk.identity.spi.AwsCredentialsIdentity identity,
                                                                      String payloadHash, byte[] body) {
        var request = software.amazon.awssdk.http.SdkHttpFullRequest.builder().method(software.amazon.awssdk.http.SdkHttpMethod.POST)
                .uri(java.net.URI.create("https://abc.execute-api.us-east-1.amazonaws.com")).encodedPath("/_/crr/failed")
                .putHeader("x-amz-content-sha256", payloadHash).build();
        var signed = software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.create().sign(r -> r.identity(identity).request(request)
                .payload(software.amazon.awssdk.http.ContentStreamProvider.fromByteArray(body))
                .putProperty(software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.REGION_NAME, "us-east-1")
                .putProperty(software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, !"UNSIGNED-PAYLOAD".equals(payloadHash))
                .putProperty(software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.SERVICE_SIGNING_NAME, "execute-api")).request();
        assertThat(signed.firstMatchingHeader("x-amz-content-sha256")).as("the payload hash is declared, signed").hasValue(payloadHash);
        return name -> signed.matchingHeaders(name);
    }

    private static byte[] sha256(byte[] data) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.util.function.Function<String, List<String>> headers(String authorization) {
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.put("Host", "example.amazonaws.com");
        h.put("X-Amz-Date", "20150830T123600Z");
        h.put("Authorization", authorization);
        return single(h::get);
    }

    /** A header lookup of one value per name, as the verifier's lookup of every value. */
    static java.util.function.Function<String, List<String>> single(java.util.function.Function<String, String> header) {
        return name -> header.apply(name) == null ? List.of() : List.of(header.apply(name));
    }
}
