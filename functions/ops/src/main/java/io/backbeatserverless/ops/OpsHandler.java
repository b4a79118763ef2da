package io.backbeatserverless.ops;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.backbeatserverless.adapters.config.BackbeatConfig;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;

/**
 * The ops function: Backbeat's API and the console behind an API Gateway HTTP API (IAM authorization on every
 * API route; the console's static files, {@link ConsoleFiles}, unauthenticated so a browser can load the page that
 * then signs its calls), and the same event shape for direct invocations from the AWS console's test events
 * ({@code events/ops-*.json}) and EventBridge Scheduler (scheduled resumes). IAM authenticates the caller before the
 * function runs.
 */
public final class OpsHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {

    /** Its API, whose runtime is built again after a SnapStart restore (issue 33): its clients and producer are the environment's own. */
    private final java.util.function.Supplier<OpsApi> api;
    /** Kept: CRaC's context holds its hooks weakly. */
    private final io.backbeatserverless.adapters.snapstart.SnapStartHooks<OpsRuntime> runtime;

    public OpsHandler() {
        this.runtime = io.backbeatserverless.adapters.snapstart.SnapStartHooks.register(
                () -> inAws(BackbeatConfig.fromEnvironment(System.getenv())), ops -> { });
        this.api = () -> runtime.current().api();
    }

    private static OpsRuntime inAws(BackbeatConfig config) {
        SiteControl control = config.ops().eventSourceMappings().isEmpty() ? SiteControl.NONE
                : EventSourceMappingSiteControl.inRegion(new software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain().getRegion().id(),
                config.ops().eventSourceMappings());
        return OpsRuntime.create(config, control, Clock.systemUTC());
    }

    public OpsHandler(OpsApi api) {
        this.runtime = null;
        this.api = () -> api;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        // Powertools' logging: the invocation's fields (request id, cold start, ...) on every JSON line.
        return context == null ? handle(event)
                : software.amazon.lambda.powertools.logging.PowertoolsLogging.withLogging(context, () -> handle(event));
    }

    private APIGatewayV2HTTPResponse handle(APIGatewayV2HTTPEvent event) {
        String method = event.getRequestContext() != null && event.getRequestContext().getHttp() != null
                ? event.getRequestContext().getHttp().getMethod() : "GET";
        String path = event.getRawPath() == null ? "/" : event.getRawPath();
        var consoleFile = method.equals("GET") ? ConsoleFiles.at(path) : java.util.Optional.<ConsoleFiles.File>empty();
        if (consoleFile.isPresent()) {
            return APIGatewayV2HTTPResponse.builder().withStatusCode(200)
                    .withHeaders(Map.of("Content-Type", consoleFile.get().contentType(), "Cache-Control", "no-store"))
                    .withBody(new String(consoleFile.get().bytes(), StandardCharsets.UTF_8)).build();
        }
        String body = event.getBody();
        if (body != null && event.getIsBase64Encoded()) {
            try {
                body = new String(Base64.getDecoder().decode(body), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return answer(OpsApi.error(400, "MalformedPOSTRequest", "the body is flagged base64 but is not base64"));
            }
        }
        Map<String, String> query;
        try {
            query = OpsHttpServer.query(event.getRawQueryString());
        } catch (IllegalArgumentException e) {
            // A client's mistake, answered as one (before: an exception, which Lambda reports as the function's error).
            return answer(OpsApi.invalidQueryString());
        }
        return answer(api.get().handle(new OpsApi.Request(method, path, query, body)));
    }

    private static APIGatewayV2HTTPResponse answer(OpsApi.Response response) {
        return APIGatewayV2HTTPResponse.builder().withStatusCode(response.status())
                .withHeaders(Map.of("Content-Type", response.contentType())).withBody(response.body()).build();
    }
}
