package io.backbeatserverless.ops;

import com.sun.net.httpserver.HttpServer;
import io.backbeatserverless.adapters.config.BackbeatConfig.Credential;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Lambda API call behind pause/resume, sent to a local HTTP server standing in for
 * lambda.&lt;region&gt;.amazonaws.com: the method, path and body of UpdateEventSourceMapping, and a SigV4
 * signature for service {@code lambda} that this project's own verifier (written from the
 * specification) accepts; an error answer fails the call with the site, mapping and answer.
 */
class EventSourceMappingSiteControlTest {

    private record Received(String method, String path, String query, Map<String, List<String>> headers, byte[] body) {
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();
    private HttpServer server;
    private volatile int answer = 202;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
                    exchange.getRequestURI().getRawQuery(), Map.copyOf(exchange.getRequestHeaders()), exchange.getRequestBody().readAllBytes()));
            byte[] out = (answer == 202 ? "{\"State\":\"Disabling\"}" : "{\"Message\":\"The resource you requested does not exist.\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(answer, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private EventSourceMappingSiteControl control() {
        return new EventSourceMappingSiteControl(ApacheHttpClient.create(),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDTEST", "secret/key")), "eu-west-1",
                URI.create("http://127.0.0.1:" + server.getAddress().getPort()), Map.of("site-a", "14e0db71-5d35-4eb5-b481-8945cf9d10c2"));
    }

    @Test
    void pausingASiteDisablesItsMappingWithASignedUpdateEventSourceMapping() {
        control().setEnabled("site-a", false);

        assertThat(received).hasSize(1);
        Received request = received.getFirst();
        assertThat(request.method()).isEqualTo("PUT");
        assertThat(request.path()).isEqualTo("/2015-03-31/event-source-mappings/14e0db71-5d35-4eb5-b481-8945cf9d10c2");
        assertThat(new String(request.body(), StandardCharsets.UTF_8)).isEqualTo("{\"Enabled\":false}");
        String authorization = header(request, "Authorization");
        assertThat(authorization).startsWith("AWS4-HMAC-SHA256 Credential=AKIDTEST/").contains("/eu-west-1/lambda/aws4_request");
        SigV4Verifier verifier = new SigV4Verifier(List.of(new Credential("AKIDTEST", "secret/key")), Clock.systemUTC(), "lambda", "eu-west-1");
        assertThat(verifier.rejectReason(request.method(), request.path(), request.query(), SigV4VerifierTest.single(name -> header(request, name)), request.body()))
                .as("the signature, checked by an independent SigV4 verifier").isNull();
    }

    @Test
    void resumingEnablesIt() {
        control().setEnabled("site-a", true);

        assertThat(new String(received.getFirst().body(), StandardCharsets.UTF_8)).isEqualTo("{\"Enabled\":true}");
    }

    @Test
    void anErrorAnswerFailsWithTheSiteTheMappingAndTheAnswer() {
        answer = 404;

        assertThatThrownBy(() -> control().setEnabled("site-a", false)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("site 'site-a'").hasMessageContaining("14e0db71-5d35-4eb5-b481-8945cf9d10c2")
                .hasMessageContaining("HTTP 404").hasMessageContaining("does not exist");
    }

    @Test
    void aSiteWithoutAMappingIsRefusedWithoutACall() {
        assertThatThrownBy(() -> control().setEnabled("site-b", false)).hasMessageContaining("no event source mapping configured for site 'site-b'");
        assertThat(received).isEmpty();
    }

    private static String header(Received request, String name) {
        return request.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                .map(e -> String.join(",", e.getValue())).findFirst().orElse(null);
    }
}
