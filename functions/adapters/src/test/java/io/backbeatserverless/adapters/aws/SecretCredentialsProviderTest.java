package io.backbeatserverless.adapters.aws;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.lambda.powertools.parameters.secrets.SecretsProvider;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 16: a store's keys come from its Secrets Manager secret, read through Powertools' parameters and cached, never
 * from the configuration. A local HTTP server stands in for secretsmanager.&lt;region&gt;.amazonaws.com and answers
 * GetSecretValue as the service does.
 */
class SecretCredentialsProviderTest {

    private static final String SECRET = "arn:aws:secretsmanager:eu-west-3:111122223333:secret:zenko-AbCdEf";
    private final List<String> targets = new CopyOnWriteArrayList<>();
    private volatile String secretString = "{\"accessKeyId\":\"AKIAFROMSECRET\",\"secretAccessKey\":\"secret/from/secret\"}";
    private HttpServer server;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            targets.add(exchange.getRequestHeaders().getFirst("X-Amz-Target") + " " + new String(exchange.getRequestBody().readAllBytes(),
                    StandardCharsets.UTF_8) + " " + exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] out = ("{\"ARN\":\"" + SECRET + "\",\"Name\":\"zenko\",\"VersionId\":\"v1\",\"SecretString\":"
                    + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(secretString) + "}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
            exchange.sendResponseHeaders(200, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }

    private SecretCredentialsProvider provider() {
        System.setProperty("aws.accessKeyId", "AKIAFUNCTIONROLE");
        System.setProperty("aws.secretAccessKey", "role-secret");
        return new SecretCredentialsProvider(SecretsProvider.builder().withClient(SecretCredentialsProvider.client(SECRET,
                URI.create("http://127.0.0.1:" + server.getAddress().getPort()))).build(), SECRET);
    }

    @Test
    void theKeysComeFromTheSecretReadOnceThenFromTheCache() {
        SecretCredentialsProvider keys = provider();

        var first = keys.resolveCredentials();
        var second = keys.resolveCredentials();

        assertThat(first.accessKeyId()).isEqualTo("AKIAFROMSECRET");
        assertThat(first.secretAccessKey()).isEqualTo("secret/from/secret");
        assertThat(second.accessKeyId()).isEqualTo("AKIAFROMSECRET");
        assertThat(targets).as("one GetSecretValue, signed by the function's own role, in the secret's region").singleElement()
                .satisfies(t -> assertThat(t).startsWith("secretsmanager.GetSecretValue {\"SecretId\":\"" + SECRET + "\"")
                        .contains("Credential=AKIAFUNCTIONROLE/").contains("/eu-west-3/secretsmanager/aws4_request"));
    }

    @Test
    void aSecretWithoutTheKeysIsAClearError() {
        secretString = "{\"user\":\"zenko\"}";

        assertThatThrownBy(() -> provider().resolveCredentials()).hasMessageContaining("secret " + SECRET)
                .hasMessageContaining("'accessKeyId' and 'secretAccessKey'");
    }
}
