package io.backbeatserverless.tests.jarprobes;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the Lambda runtime does with an MSK-triggered function, run from source with the function's
 * deployment jar alone on the class path ({@code java -cp lambda.jar KafkaEventHandlerProbe.java ...}),
 * so a class the jar lacks fails it: instantiates the handler class by name with its no-argument
 * constructor (configuration from the environment) and invokes it once with a KafkaEvent of the given
 * records and an invocation context. Prints {@code RESULT <the handler's result>}.
 * Usage: KafkaEventHandlerProbe <handler class> <topic> <record file>..., each file two lines: key and value, in base64.
 */
public final class KafkaEventHandlerProbe {

    private KafkaEventHandlerProbe() {
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        var handler = (RequestHandler<KafkaEvent, Object>) Class.forName(args[0]).getDeclaredConstructor().newInstance();
        String topic = args[1];
        List<KafkaEvent.KafkaEventRecord> records = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            List<String> keyAndValue = Files.readAllLines(Path.of(args[i]), StandardCharsets.US_ASCII);
            records.add(KafkaEvent.KafkaEventRecord.builder().withTopic(topic).withPartition(0).withOffset(i - 2)
                    .withTimestamp(System.currentTimeMillis()).withTimestampType("CREATE_TIME")
                    .withKey(keyAndValue.get(0)).withValue(keyAndValue.get(1)).build());
        }
        KafkaEvent event = new KafkaEvent();
        event.setEventSource("aws:kafka");
        event.setRecords(Map.of(topic + "-0", records));
        System.out.println("RESULT " + handler.handleRequest(event, context(args[0])));
        // Lambda freezes the sandbox after a return; here, clients' threads must not keep the JVM alive.
        System.exit(0);
    }

    /** An invocation's context as Lambda gives it (request id, a minute left), so the handler's Powertools logging runs. */
    private static Context context(String handler) {
        long deadline = System.currentTimeMillis() + 60_000;
        return new Context() {
            public String getAwsRequestId() { return "probe-request-1"; }
            public String getLogGroupName() { return "/aws/lambda/probe"; }
            public String getLogStreamName() { return "probe"; }
            public String getFunctionName() { return handler.substring(handler.lastIndexOf('.') + 1); }
            public String getFunctionVersion() { return "$LATEST"; }
            public String getInvokedFunctionArn() { return "arn:aws:lambda:us-east-1:111122223333:function:probe"; }
            public CognitoIdentity getIdentity() { return null; }
            public ClientContext getClientContext() { return null; }
            public int getRemainingTimeInMillis() { return (int) Math.max(0, deadline - System.currentTimeMillis()); }
            public int getMemoryLimitInMB() { return 1024; }
            public LambdaLogger getLogger() {
                return new LambdaLogger() {
                    public void log(String message) { System.out.print(message); }
                    public void log(byte[] message) { System.out.print(new String(message, StandardCharsets.UTF_8)); }
                };
            }
        };
    }
}
