package io.backbeatserverless.infra;

import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.aws_apigatewayv2_authorizers.HttpIamAuthorizer;
import software.amazon.awscdk.aws_apigatewayv2_integrations.HttpLambdaIntegration;
import software.amazon.awscdk.services.apigateway.AccessLogFormat;
import software.amazon.awscdk.services.apigatewayv2.AddRoutesOptions;
import software.amazon.awscdk.services.apigatewayv2.HttpApi;
import software.amazon.awscdk.services.apigatewayv2.HttpMethod;
import software.amazon.awscdk.services.apigatewayv2.HttpNoneAuthorizer;
import software.amazon.awscdk.services.apigatewayv2.HttpRoute;
import software.amazon.awscdk.services.apigatewayv2.HttpStageOptions;
import software.amazon.awscdk.services.apigatewayv2.IAccessLogSettings;
import software.amazon.awscdk.services.apigatewayv2.IAccessLogDestination;
import software.amazon.awscdk.services.apigatewayv2.LogGroupLogDestination;
import software.amazon.awscdk.services.apigatewayv2.ThrottleSettings;
import software.amazon.awscdk.services.lambda.IFunction;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.constructs.Construct;

import java.util.ArrayList;
import java.util.List;

/**
 * The ops API and console in front of the ops function: an API Gateway HTTP API whose every API route needs an
 * IAM-signed request (SigV4, service {@code execute-api}; callers need {@code execute-api:Invoke} on it), while the
 * console's static files are served without authorization, so that a browser can load the page, which then signs
 * each of its calls with the credentials typed into it. (A Function URL with auth type AWS_IAM refuses the browser's
 * unsigned GET of the page itself.) Access logs go to a log group of their own; the stage is throttled.
 */
final class OpsEndpoint extends Construct {

    /**
     * The stage's access-log line: JSON of HTTP API variables only (API Gateway Developer Guide, http-api-logging-
     * variables.html: REST API variables such as $context.resourcePath do not exist on HTTP APIs, so CDK's REST helper
     * AccessLogFormat.jsonWithStandardFields() does not fit). Who called (IAM), which route, the outcome and its latency.
     */
    static final String ACCESS_LOG_FORMAT = "{\"requestId\":\"$context.requestId\",\"requestTime\":\"$context.requestTime\","
            + "\"ip\":\"$context.identity.sourceIp\",\"caller\":\"$context.identity.caller\",\"user\":\"$context.identity.user\","
            + "\"userArn\":\"$context.identity.userArn\",\"httpMethod\":\"$context.httpMethod\",\"routeKey\":\"$context.routeKey\","
            + "\"path\":\"$context.path\",\"protocol\":\"$context.protocol\",\"status\":\"$context.status\","
            + "\"responseLength\":\"$context.responseLength\",\"responseLatency\":\"$context.responseLatency\","
            + "\"integrationStatus\":\"$context.integrationStatus\",\"integrationError\":\"$context.integrationErrorMessage\","
            + "\"error\":\"$context.error.message\"}";

    /** The console's static files: the page, its signing library, its icon (the ops function's ConsoleFiles serves them). */
    static final List<String> PUBLIC_PATHS = List.of("/console", "/console/aws4fetch-1.0.20.esm.mjs", "/favicon.ico");

    final HttpApi api;

    OpsEndpoint(Construct scope, String id, IFunction ops) {
        super(scope, id);
        LogGroup accessLogs = LogGroup.Builder.create(this, "AccessLogs").retention(RetentionDays.ONE_MONTH)
                .removalPolicy(RemovalPolicy.DESTROY).build();
        HttpLambdaIntegration toOps = new HttpLambdaIntegration("Ops", ops);
        api = HttpApi.Builder.create(this, "Api")
                .description("Backbeat Serverless ops API (IAM-signed) and console")
                .defaultAuthorizer(new HttpIamAuthorizer())
                .createDefaultStage(false)
                .build();
        LogGroupLogDestination destination = new LogGroupLogDestination(accessLogs);
        api.addStage("DefaultStage", HttpStageOptions.builder().stageName("$default").autoDeploy(true)
                .throttle(ThrottleSettings.builder().rateLimit(50).burstLimit(100).build())
                .accessLogSettings(new IAccessLogSettings() {
                    @Override
                    public IAccessLogDestination getDestination() {
                        return destination;
                    }

                    @Override
                    public AccessLogFormat getFormat() {
                        return AccessLogFormat.custom(ACCESS_LOG_FORMAT);
                    }
                })
                .build());
        List<HttpRoute> routes = new ArrayList<>(api.addRoutes(AddRoutesOptions.builder().path("/{proxy+}")
                .methods(List.of(HttpMethod.ANY)).integration(toOps).build()));
        List<HttpRoute> open = new ArrayList<>();
        for (String path : PUBLIC_PATHS) {
            open.addAll(api.addRoutes(AddRoutesOptions.builder().path(path).methods(List.of(HttpMethod.GET))
                    .integration(toOps).authorizer(new HttpNoneAuthorizer()).build()));
        }
        for (HttpRoute route : open) {
            NagSuppressions.addResourceSuppressions(route, List.of(NagPackSuppression.builder().id("AwsSolutions-APIG4")
                    .reason("The console's static files (page, signing library, icon) hold no data and no secret; a browser must load"
                            + " them before it can sign anything. Every API route needs IAM authorization.").build()), true);
        }
    }

    String url() {
        return api.getApiEndpoint() + "/";
    }
}
