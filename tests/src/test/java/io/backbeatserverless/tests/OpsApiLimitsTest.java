package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 32: the local ops API reads a body up to 1 MiB, before and whatever its signature; a larger one, sent with its
 * length or chunked with none, gets 413 without being read whole. A body slower than 10 s gets 408; requests beyond 32 at
 * once get 503 SlowDown at once. After each, the API goes on serving signed callers.
 */
class OpsApiLimitsTest extends StackScenario {

    private static final int TWO_MIB = 2 << 20;

    @Test
    void aBodyOverTheLimitGets413BeforeItsSignatureIsLookedAtAndTheApiGoesOn() throws Exception {
        URI failed = URI.create("http://127.0.0.1:" + SharedStack.stack().config().ops().port() + "/_/crr/failed");
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> withLength = http.send(HttpRequest.newBuilder(failed)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[TWO_MIB])).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(withLength.statusCode()).isEqualTo(413);
            assertThat(new ObjectMapper().readTree(withLength.body()).path("code").asText()).isEqualTo("RequestEntityTooLarge");

            // Chunked: no length to refuse it by; the read stops at the limit all the same.
            HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(failed)
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(new byte[TWO_MIB]))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(chunked.statusCode()).isEqualTo(413);

            HttpResponse<String> small = http.send(HttpRequest.newBuilder(failed)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1024])).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(small.statusCode()).as("under the limit: the signature decides").isEqualTo(403);
        }
        assertThat(stack.api(200, "GET", "/_/crr/failed", Map.of("sitename", SharedStack.AWS_LOCATION), null).has("Versions")).isTrue();
    }

    /**
     * 32 connections that send their headers and then a trickle of body hold every handler: the next request, signed,
     * gets 503 SlowDown at once, each of the 32 gets 408 when its 10 s are up, and then signed callers are served again.
     */
    @Test
    void slowBodiesGet408AndRequestsBeyondTheCapGet503MeanwhileNotAHang() throws Exception {
        int port = SharedStack.stack().config().ops().port();
        java.util.List<java.net.Socket> slow = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < io.backbeatserverless.ops.OpsHttpServer.MAX_CONCURRENT_REQUESTS; i++) {
                java.net.Socket socket = new java.net.Socket("127.0.0.1", port);
                socket.setSoTimeout((int) io.backbeatserverless.ops.OpsHttpServer.BODY_READ_TIMEOUT.toMillis() * 2);
                socket.getOutputStream().write(("POST /_/crr/failed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n[")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                slow.add(socket);
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() -> {
                var reply = stack.ops.call("GET", "/_/crr/status", Map.of(), null);
                assertThat(reply.status()).isEqualTo(503);
                assertThat(new ObjectMapper().readTree(reply.body()).path("code").asText()).isEqualTo("SlowDown");
            });
            for (java.net.Socket socket : slow) {
                String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                assertThat(answer).startsWith("HTTP/1.1 408").contains("\"code\":\"RequestTimeout\"");
            }
        } finally {
            for (java.net.Socket socket : slow) {
                socket.close();
            }
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                .until(() -> stack.ops.call("GET", "/_/crr/status", Map.of(), null).status() == 200);
    }
}
