package io.backbeatserverless.localstack;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.backbeatserverless.adapters.config.BackbeatConfig;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A deployed function as AWS runs it, in a JVM of its own: the handler class the template names, built with its
 * no-argument constructor (as Lambda's Java runtime builds it, so it reads its configuration and credentials from its
 * environment exactly as deployed), invoked by what stands in for its trigger:
 * <ul>
 *   <li>{@code kafka <handler> <bootstrap> <topic> <group> <batchSize> <batchWindowMs> <timeoutSeconds>}: an MSK event
 *       source mapping ({@link EventSourceRunner}); {@code enable} / {@code disable} on standard input follow the
 *       mapping's state;</li>
 *   <li>{@code http <handler> <port>}: an API Gateway HTTP API (payload 2.0) on 127.0.0.1 — API Gateway's IAM
 *       authorization is not reproduced: the caller is the test;</li>
 *   <li>{@code schedule <handler> <periodMs> <input JSON> <timeoutSeconds>}: an EventBridge Scheduler schedule;</li>
 *   <li>{@code main <class>}: a container's entry point (the populator's ECS task).</li>
 * </ul>
 * It prints {@code READY} once its trigger runs, and exits when its standard input closes.
 */
public final class LambdaRuntimeStandIn {

    private static final ObjectMapper JSON = new ObjectMapper();

    private LambdaRuntimeStandIn() {
    }

    public static void main(String[] args) throws Exception {
        Deque<AutoCloseable> started = new ArrayDeque<>();
        EventSourceRunner runner = null;
        switch (args[0]) {
            case "kafka" -> {
                RequestHandler<KafkaEvent, ?> handler = handler(args[1]);
                runner = new EventSourceRunner(simpleName(args[1]), args[2], args[3], args[4],
                        new BackbeatConfig.EventSourceSettings(Integer.parseInt(args[5]), Long.parseLong(args[6]), Long.parseLong(args[7])),
                        handler).start();
                started.push(runner);
            }
            case "http" -> started.push(serveHttpApi(handler(args[1]), Integer.parseInt(args[2])));
            case "schedule" -> started.push(schedule(handler(args[1]), Long.parseLong(args[2]), args[3], Duration.ofSeconds(Long.parseLong(args[4]))));
            case "main" -> {
                Thread main = Thread.ofPlatform().name("container-main").start(() -> {
                    try {
                        Class.forName(args[1]).getMethod("main", String[].class).invoke(null, (Object) new String[0]);
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException("cannot run " + args[1], e);
                    }
                });
                started.push(main::interrupt);
            }
            default -> throw new IllegalArgumentException("unknown trigger '" + args[0] + "' (kafka, http, schedule, main)");
        }
        LocalFunctionMain.serveUntilStdinCloses(args[1], runner, started);
    }

    /** {@code package.Class::handleRequest} (a template's Handler) or a class name: its instance, as Lambda builds it. */
    @SuppressWarnings("unchecked")
    private static <I, O> RequestHandler<I, O> handler(String name) throws ReflectiveOperationException {
        String className = name.contains("::") ? name.substring(0, name.indexOf("::")) : name;
        return (RequestHandler<I, O>) Class.forName(className).getDeclaredConstructor().newInstance();
    }

    private static String simpleName(String handler) {
        String className = handler.contains("::") ? handler.substring(0, handler.indexOf("::")) : handler;
        return className.substring(className.lastIndexOf('.') + 1);
    }

    private static AutoCloseable serveHttpApi(RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> handler, int port)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.createContext("/", exchange -> {
            try (exchange) {
                APIGatewayV2HTTPResponse response = handler.handleRequest(httpEvent(exchange),
                        new LocalLambdaContext(simpleName(handler.getClass().getName()), Duration.ofSeconds(60)));
                byte[] body = response.getBody() == null ? new byte[0] : response.getBody().getBytes(StandardCharsets.UTF_8);
                if (response.getHeaders() != null) {
                    response.getHeaders().forEach(exchange.getResponseHeaders()::set);
                }
                exchange.sendResponseHeaders(response.getStatusCode(), body.length == 0 ? -1 : body.length);
                exchange.getResponseBody().write(body);
            } catch (RuntimeException e) {
                System.err.println("http api: " + e);
                exchange.sendResponseHeaders(502, -1);
            }
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return () -> server.stop(0);
    }

    /** The payload 2.0 event API Gateway's HTTP API sends a Lambda integration. */
    private static APIGatewayV2HTTPEvent httpEvent(HttpExchange exchange) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        exchange.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(java.util.Locale.ROOT), String.join(",", values)));
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        return APIGatewayV2HTTPEvent.builder()
                .withVersion("2.0")
                .withRouteKey("$default")
                .withRawPath(exchange.getRequestURI().getRawPath())
                .withRawQueryString(exchange.getRequestURI().getRawQuery() == null ? "" : exchange.getRequestURI().getRawQuery())
                .withHeaders(headers)
                .withBody(body.isEmpty() ? null : body)
                .withIsBase64Encoded(false)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder()
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod(exchange.getRequestMethod())
                                .withPath(exchange.getRequestURI().getRawPath()).build())
                        .build())
                .build();
    }

    private static AutoCloseable schedule(RequestHandler<Map<String, Object>, ?> handler, long periodMs, String input, Duration timeout)
            throws IOException {
        Map<String, Object> event = JSON.readValue(input, new TypeReference<>() {
        });
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                handler.handleRequest(new LinkedHashMap<>(event), new LocalLambdaContext(simpleName(handler.getClass().getName()), timeout));
            } catch (RuntimeException e) {
                System.err.println("scheduled invocation failed: " + e);
            }
        }, 0, periodMs, TimeUnit.MILLISECONDS);
        return () -> {
            scheduler.shutdownNow();
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        };
    }

    /** The command line of {@link #main} for a trigger and its arguments, on this JVM's class path. */
    public static List<String> command(List<String> trigger) {
        List<String> command = new java.util.ArrayList<>(List.of("-cp", System.getProperty("java.class.path"), LambdaRuntimeStandIn.class.getName()));
        command.addAll(trigger);
        return command;
    }
}
