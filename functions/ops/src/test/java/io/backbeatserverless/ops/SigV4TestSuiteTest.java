package io.backbeatserverless.ops;

import io.backbeatserverless.adapters.config.BackbeatConfig.Credential;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every case of AWS's published SigV4 test suite ({@code aws-sig-v4-test-suite}, botocore's copy at
 * tests/unit/auth/aws4_testsuite, commit 0e6e2404, Apache 2.0: its LICENSE and NOTICE are beside the cases): each signed
 * request ({@code .sreq}, with its {@code .authz} as Authorization) as the verifier gets it (method, path and query as they came, every header's values, the body),
 * at the suite's time, for its service and region. All are accepted but {@code post-sts-header-after}, whose session token
 * is added after signing: the suite shows it for services that allow an unsigned token; API Gateway's IAM authorization
 * and our verifier require it signed, so it is refused, and says why.
 */
class SigV4TestSuiteTest {

    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private static final Clock AT_SIGNING = Clock.fixed(Instant.parse("2015-08-30T12:36:00Z"), ZoneOffset.UTC);
    private static final Map<String, String> REFUSED = Map.of(
            "post-sts-header-after", "the session token (X-Amz-Security-Token) is not among the signed headers");

    @TestFactory
    Stream<DynamicTest> everyCaseOfTheSuite() throws IOException, URISyntaxException {
        Path suite = Path.of(SigV4TestSuiteTest.class.getResource("/aws-sig-v4-test-suite").toURI());
        List<Path> cases;
        try (Stream<Path> files = Files.walk(suite)) {
            cases = files.filter(f -> f.toString().endsWith(".sreq")).sorted().toList();
        }
        assertThat(cases).as("the suite's signed requests").hasSize(34);
        return cases.stream().map(file -> DynamicTest.dynamicTest(suite.relativize(file).toString(), () -> {
            String name = file.getFileName().toString().replace(".sreq", "");
            Request request = Request.parse(Files.readString(file, StandardCharsets.UTF_8));
            // The case's Authorization is its .authz: get-vanilla-with-session-token's .sreq carries get-vanilla's signature
            // (a slip of the suite; its .authz and .sts agree with each other and with us).
            request.headers().put("authorization", List.of(Files.readString(file.resolveSibling(name + ".authz"), StandardCharsets.UTF_8).trim()));
            // The cases with a session token are signed by the suite's temporary key: its token is the one they carry.
            List<String> token = request.headers().getOrDefault("x-amz-security-token", List.of());
            SigV4Verifier verifier = new SigV4Verifier(List.of(new Credential("AKIDEXAMPLE", SECRET, token.isEmpty() ? null : token.getFirst())),
                    AT_SIGNING, "service", "us-east-1");
            String reason = verifier.rejectReason(request.method(), request.path(), request.query(), n -> request.headers().get(n),
                    request.body());
            assertThat(reason).as(name).isEqualTo(REFUSED.get(name));
        }));
    }

    /** A request of the suite: its first line, its headers (a folded line joins its header with a space), its body. */
    record Request(String method, String path, String query, Map<String, List<String>> headers, byte[] body) {
        static Request parse(String text) {
            String[] lines = text.split("\n", -1);
            String first = lines[0];
            String method = first.substring(0, first.indexOf(' '));
            String target = first.substring(first.indexOf(' ') + 1, first.lastIndexOf(" HTTP/"));
            int question = target.indexOf('?');
            Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            List<String> last = null;
            int i = 1;
            for (; i < lines.length && !lines[i].isEmpty(); i++) {
                String line = lines[i];
                if (Character.isWhitespace(line.charAt(0)) && last != null) {
                    last.set(last.size() - 1, last.getLast() + " " + line.trim());
                    continue;
                }
                int colon = line.indexOf(':');
                last = headers.computeIfAbsent(line.substring(0, colon).toLowerCase(Locale.ROOT), k -> new ArrayList<>());
                last.add(line.substring(colon + 1));
            }
            String body = i + 1 < lines.length ? String.join("\n", java.util.Arrays.copyOfRange(lines, i + 1, lines.length)) : "";
            return new Request(method, question < 0 ? target : target.substring(0, question), question < 0 ? null : target.substring(question + 1),
                    headers, body.getBytes(StandardCharsets.UTF_8));
        }
    }
}
