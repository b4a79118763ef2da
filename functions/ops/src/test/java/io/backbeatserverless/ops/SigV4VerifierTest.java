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
            List.of(new Credential("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")), AT_SIGNING, "service");

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
        assertThat(verifier.rejectReason("GET", "/", null, name -> null, new byte[0])).contains("not signed");
        SigV4Verifier later = new SigV4Verifier(List.of(new Credential("AKIDEXAMPLE", "x")),
                Clock.offset(AT_SIGNING, java.time.Duration.ofMinutes(16)), "service");
        assertThat(later.rejectReason("GET", "/", null, headers(good), new byte[0])).contains("more than 15 minutes");
    }

    private static java.util.function.Function<String, String> headers(String authorization) {
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.put("Host", "example.amazonaws.com");
        h.put("X-Amz-Date", "20150830T123600Z");
        h.put("Authorization", authorization);
        return h::get;
    }
}
