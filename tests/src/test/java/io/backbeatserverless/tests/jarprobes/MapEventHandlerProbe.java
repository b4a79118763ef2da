package io.backbeatserverless.tests.jarprobes;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Map;

/**
 * What the Lambda runtime does with a function a schedule invokes, run from source with the function's deployment
 * jar alone on the class path: instantiates the handler by name, invokes it once with the JSON input given, with a
 * context that leaves it {@code <seconds>} to run, and prints {@code RESULT <map>}.
 * Usage: MapEventHandlerProbe <handler class> <seconds> <input JSON>.
 */
public final class MapEventHandlerProbe {

    private MapEventHandlerProbe() {
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        var handler = (RequestHandler<Map<String, Object>, Map<String, Object>>) Class.forName(args[0]).getDeclaredConstructor().newInstance();
        long deadline = System.currentTimeMillis() + Long.parseLong(args[1]) * 1000;
        Map<String, Object> input = new ObjectMapper().readValue(args[2], Map.class);
        Context context = new Context() {
            public String getAwsRequestId() {
                return "probe-request";
            }

            public String getLogGroupName() {
                return "probe";
            }

            public String getLogStreamName() {
                return "probe";
            }

            public String getFunctionName() {
                return args[0];
            }

            public String getFunctionVersion() {
                return "$LATEST";
            }

            public String getInvokedFunctionArn() {
                return "arn:aws:lambda:us-east-1:000000000000:function:probe";
            }

            public CognitoIdentity getIdentity() {
                return null;
            }

            public ClientContext getClientContext() {
                return null;
            }

            public int getRemainingTimeInMillis() {
                return (int) Math.max(0, deadline - System.currentTimeMillis());
            }

            public int getMemoryLimitInMB() {
                return 1024;
            }

            public LambdaLogger getLogger() {
                return null;
            }
        };
        System.out.println("RESULT " + handler.handleRequest(input, context));
        System.exit(0);
    }
}
