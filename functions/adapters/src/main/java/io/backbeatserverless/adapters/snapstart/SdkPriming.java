package io.backbeatserverless.adapters.snapstart;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.aws.RequestTimeouts;
import io.backbeatserverless.adapters.config.Endpoint;
import io.backbeatserverless.core.entry.EntryCodec;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Priming for SnapStart (issue 33), with no side effect: the requests the functions make most, built, marshalled,
 * signed and passed through this project's interceptors by clients made as {@link AwsClients} makes them, then stopped
 * before they are sent ({@link NotSent}: no connection is opened, no credential looked up: the clients sign with a key
 * of their own); and the entry codec on a recorded replication entry and status entry (Backbeat's format, as
 * {@code events/} holds them). Everything it made is closed before the snapshot.
 */
public final class SdkPriming {

    /** Where the priming clients would send: nowhere, the interceptor stops every request first. */
    private static final Endpoint NOWHERE = new Endpoint("http://127.0.0.1:9", "us-east-1", "PRIMING", "priming-only-not-a-secret");
    private static final AtomicInteger STOPPED = new AtomicInteger();

    private SdkPriming() {
    }

    /** Thrown by the interceptor at the last moment before transmission. */
    static final class NotSent extends RuntimeException {
        NotSent() {
            super("priming: not sent", null, false, false);
        }
    }

    /** Stops each request once signed, before it goes on the wire. */
    private static final ExecutionInterceptor STOP_BEFORE_SENDING = new ExecutionInterceptor() {
        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            STOPPED.incrementAndGet();
            throw new NotSent();
        }
    };

    /** Runs the priming; the count of requests stopped before sending (each one prepared in full). */
    public static int prime() {
        int before = STOPPED.get();
        primeCodec();
        try (S3Client s3 = AwsClients.s3(NOWHERE, 2, false, new RequestTimeouts(Duration.ofSeconds(20), 1_000_000), List.of(STOP_BEFORE_SENDING));
             DynamoDbClient dynamo = AwsClients.dynamoDbBuilder(NOWHERE)
                     .overrideConfiguration(c -> c.addExecutionInterceptor(STOP_BEFORE_SENDING)).build()) {
            stopped(() -> s3.headObject(r -> r.bucket("priming").key("k").versionId("v")));
            stopped(() -> s3.getObject(r -> r.bucket("priming").key("k").versionId("v")));
            stopped(() -> s3.putObject(r -> r.bucket("priming").key("k").metadata(Map.of("scal-version-id", "v")),
                    RequestBody.fromString("priming")));
            stopped(() -> s3.listObjectVersions(r -> r.bucket("priming").prefix("k").maxKeys(1)));
            stopped(() -> s3.getObjectTagging(r -> r.bucket("priming").key("k").versionId("v")));
            stopped(() -> s3.createMultipartUpload(r -> r.bucket("priming").key("k")));
            Map<String, AttributeValue> key = Map.of("object", AttributeValue.fromS("priming"), "versionId", AttributeValue.fromS("v"));
            stopped(() -> dynamo.getItem(r -> r.tableName("priming").key(key)));
            stopped(() -> dynamo.updateItem(r -> r.tableName("priming").key(key).updateExpression("SET #a = :a")
                    .expressionAttributeNames(Map.of("#a", "a")).expressionAttributeValues(Map.of(":a", AttributeValue.fromN("1")))));
            stopped(() -> dynamo.batchGetItem(r -> r.requestItems(Map.of("priming",
                    software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes.builder().keys(key).build()))));
            stopped(() -> dynamo.query(r -> r.tableName("priming").keyConditionExpression("#o = :o")
                    .expressionAttributeNames(Map.of("#o", "object")).expressionAttributeValues(Map.of(":o", AttributeValue.fromS("priming")))));
        }
        return STOPPED.get() - before;
    }

    private static void stopped(Runnable request) {
        try {
            request.run();
        } catch (NotSent expected) {
            // prepared in full, not sent
        } catch (software.amazon.awssdk.core.exception.SdkClientException e) {
            if (!(e.getCause() instanceof NotSent)) {
                throw e;
            }
        }
    }

    private static void primeCodec() {
        EntryCodec.encode(EntryCodec.decodeReplicationEntry(resource("snapstart/replication-entry.json")));
        EntryCodec.encode(EntryCodec.decodeStatusEntry(resource("snapstart/status-entry.json")));
    }

    private static byte[] resource(String name) {
        try (InputStream in = SdkPriming.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("priming resource " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("priming resource " + name + " unreadable", e);
        }
    }
}
