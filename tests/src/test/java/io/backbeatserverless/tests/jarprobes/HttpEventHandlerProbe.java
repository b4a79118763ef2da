package io.backbeatserverless.tests.jarprobes;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the Lambda runtime does with a function behind a Function URL, run from source with the
 * function's deployment jar alone on the class path ({@code java -cp lambda.jar HttpEventHandlerProbe.java ...}):
 * instantiates the handler class by name (configuration from the environment) and invokes it once per
 * request, printing {@code RESPONSE <status> <body>} for each.
 * Usage: HttpEventHandlerProbe <handler class> <request>..., each request {@code METHOD path[?query][ @body-file]}.
 */
public final class HttpEventHandlerProbe {

    private HttpEventHandlerProbe() {
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        var handler = (RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse>) Class.forName(args[0])
                .getDeclaredConstructor().newInstance();
        for (int i = 1; i < args.length; i++) {
            String[] parts = args[i].split(" ");
            String[] pathAndQuery = parts[1].split("\\?", 2);
            String body = parts.length > 2 ? Files.readString(Path.of(parts[2].substring(1))) : null;
            APIGatewayV2HTTPEvent event = APIGatewayV2HTTPEvent.builder()
                    .withRawPath(pathAndQuery[0]).withRawQueryString(pathAndQuery.length > 1 ? pathAndQuery[1] : "")
                    .withBody(body).withIsBase64Encoded(false)
                    .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder()
                            .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod(parts[0]).withPath(pathAndQuery[0]).build())
                            .build())
                    .build();
            APIGatewayV2HTTPResponse response = handler.handleRequest(event, null);
            System.out.println("RESPONSE " + response.getStatusCode() + " " + response.getBody().replace('\n', ' '));
        }
        System.exit(0);
    }
}
