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
 * Issue 32 (in part): the local ops API reads a body up to 1 MiB, before and whatever its signature; a larger one, sent
 * with its length or chunked with none, gets 413 without being read whole, and the API goes on serving signed callers.
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
}
