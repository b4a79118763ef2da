package io.backbeatserverless.localstack;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The stack's dynalite against what clients do to a real DynamoDB. */
class DynaliteProcessTest {

    /**
     * Found by the chaos run: a function SIGKILLed while it sent a request body made dynalite rethrow the aborted
     * request's error and exit, and with it every table of the stack (status, failed entries, checkpoints).
     */
    @Test
    void aClientThatDiesInTheMiddleOfItsRequestDoesNotStopIt() throws Exception {
        int port = EmbeddedKafka.freePort();
        try (ChildProcess dynalite = DynaliteProcess.start(DynaliteProcess.findLocalstackDir(), "127.0.0.1", port)) {
            for (int i = 0; i < 3; i++) {
                try (Socket client = new Socket("127.0.0.1", port)) {
                    OutputStream out = client.getOutputStream();
                    out.write(("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
                            + "X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 100\r\n\r\n{\"Limit\":")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    client.setSoLinger(true, 0); // closed with a reset, half-way through the body: as a killed process's socket
                }
            }
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(dynalite::isAlive);
            try (DynamoDbClient dynamo = io.backbeatserverless.adapters.aws.AwsClients.dynamoDb(
                    new io.backbeatserverless.adapters.config.Endpoint("http://127.0.0.1:" + port, "us-east-1", "accessKey1", "verySecretKey1"))) {
                assertThat(dynamo.listTables().tableNames()).isEmpty();
            }
        }
    }
}
