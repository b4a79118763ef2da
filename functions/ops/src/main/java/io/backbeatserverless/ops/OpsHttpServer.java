package io.backbeatserverless.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The ops API and console over HTTP for local runs (Backbeat's port 8900), on one address. Every route
 * but {@code /_/healthcheck} and the console's static files ({@link ConsoleFiles}) must be SigV4-signed
 * (service {@code execute-api}, as in AWS) by a configured access key; anything else gets 403. A body is read up to
 * {@value #MAX_BODY_BYTES} bytes, before and whatever the signature: a larger one (or a chunked one that runs past it)
 * gets 413 at once, so no caller can make the JVM that also runs the functions hold a body of its choosing (issue 32).
 */
public final class OpsHttpServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OpsHttpServer.class);

    /**
     * The largest body the ops API reads: ten times the largest an operator sends (a retry of a few thousand failed
     * entries, a bucket's replication rules); API Gateway allows 10 MB in AWS, Lambda 6 MB.
     */
    static final int MAX_BODY_BYTES = 1 << 20;

    private final HttpServer server;
    private final OpsApi api;
    private final SigV4Verifier verifier;

    public OpsHttpServer(String host, int port, OpsApi api, SigV4Verifier verifier) throws IOException {
        this.api = api;
        this.verifier = verifier;
        this.server = HttpServer.create(new InetSocketAddress(host, port), 64);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String rawPath = exchange.getRequestURI().getRawPath();
            String rawQuery = exchange.getRequestURI().getRawQuery();
            byte[] body = exchange.getRequestBody().readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                LOG.info("ops API: {} {} refused: a body over {} bytes", method, rawPath, MAX_BODY_BYTES);
                exchange.getResponseHeaders().set("Connection", "close");
                reply(exchange, OpsApi.error(413, "RequestEntityTooLarge", "the request body is larger than " + MAX_BODY_BYTES + " bytes"));
                return;
            }
            var consoleFile = method.equals("GET") ? ConsoleFiles.at(rawPath) : java.util.Optional.<ConsoleFiles.File>empty();
            if (consoleFile.isPresent()) {
                send(exchange, new OpsApi.Response(200, consoleFile.get().contentType(), null), consoleFile.get().bytes());
                return;
            }
            if (!rawPath.equals("/_/healthcheck")) {
                String reason = verifier.rejectReason(method, rawPath, rawQuery, exchange.getRequestHeaders()::getFirst, body);
                if (reason != null) {
                    LOG.info("ops API: {} {} refused: {}", method, rawPath, reason);
                    reply(exchange, OpsApi.error(403, "AccessDenied", reason));
                    return;
                }
            }
            reply(exchange, api.handle(new OpsApi.Request(method, rawPath, query(rawQuery), new String(body, StandardCharsets.UTF_8))));
        } catch (RuntimeException e) {
            LOG.error("ops API: request failed", e);
        }
    }

    static Map<String, String> query(String rawQuery) {
        Map<String, String> query = new LinkedHashMap<>();
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                int eq = pair.indexOf('=');
                query.put(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
                        eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return query;
    }

    private static void reply(HttpExchange exchange, OpsApi.Response response) throws IOException {
        send(exchange, response, response.body().getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange exchange, OpsApi.Response response, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", response.contentType());
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(response.status(), body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
