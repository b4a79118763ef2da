package io.backbeatserverless.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ops API and console over HTTP for local runs (Backbeat's port 8900), on one address. Every route but the
 * console's static files ({@link ConsoleFiles}) must be SigV4-signed (service {@code execute-api}, as in AWS) by a
 * configured access key ({@link SigV4Verifier}); anything else gets one and the same 403, whatever the reason, which
 * goes to the log only. {@code /_/healthcheck} answers unsigned callers too, with its status alone; its detail (topics,
 * partitions, Kafka's errors) is for signed callers.
 *
 * <p>Bounded, so that no caller can make the JVM that also runs the functions notice it (issue 32):
 * <ul>
 * <li>a body is read up to {@value #MAX_BODY_BYTES} bytes, before and whatever the signature: a larger one (with a
 *     length or chunked) gets 413 at once;</li>
 * <li>a body must arrive within {@link #BODY_READ_TIMEOUT}: a slower one gets 408 and its connection is closed;</li>
 * <li>at most {@value #MAX_CONCURRENT_REQUESTS} requests are handled at once: more get 503 SlowDown at once, unread;</li>
 * <li>a request's line and headers are bounded by the JDK server (200 headers, 380 KB) and, with
 *     {@code -Dsun.net.httpserver.maxReqTime}, in time (the local launcher sets it: docs/operations.md); each connection
 *     waiting for them holds a virtual thread, a few kilobytes.</li>
 * </ul>
 */
public final class OpsHttpServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OpsHttpServer.class);

    /**
     * The largest body the ops API reads: ten times the largest an operator sends (a retry of a few thousand failed
     * entries, a bucket's replication rules); API Gateway allows 10 MB in AWS, Lambda 6 MB.
     */
    public static final int MAX_BODY_BYTES = 1 << 20;
    /** The longest a body may take to arrive once the headers have: a megabyte at 100 KB/s. */
    public static final Duration BODY_READ_TIMEOUT = Duration.ofSeconds(10);
    /** How long a refused body is read and dropped before its connection is closed (see {@link #lingerBriefly}). */
    static final Duration LINGER = Duration.ofSeconds(2);
    /** At most this much of a refused body is read and dropped: a body larger still is cut off unanswered. */
    static final long LINGER_BYTES = 16L << 20;
    /** Requests handled at once: the console and an operator's scripts need a few; each may hold a body of 1 MiB. */
    public static final int MAX_CONCURRENT_REQUESTS = 32;
    private static final int REFUSALS_LOGGED_PER_SECOND = 10;
    /** The one answer to every refused signature: what was wrong is in the server's log, for its operator. */
    static final OpsApi.Response ACCESS_DENIED = OpsApi.error(403, "AccessDenied",
            "the request is not signed as this API requires (AWS SigV4 for service execute-api by a configured access key);"
                    + " the server's log says why");

    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "ops-http-watchdog");
        thread.setDaemon(true);
        return thread;
    });

    private final HttpServer server;
    private final OpsApi api;
    private final SigV4Verifier verifier;
    private final Semaphore handling = new Semaphore(MAX_CONCURRENT_REQUESTS);
    private final AtomicLong refusalWindow = new AtomicLong();
    private final AtomicLong refusalsInWindow = new AtomicLong();
    private final AtomicLong refusalsLeftOut = new AtomicLong();

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
            if (!handling.tryAcquire()) {
                logRefusal("ops API: {} {} from {} refused: {} requests are being handled", method, shown(rawPath), exchange.getRemoteAddress(),
                        MAX_CONCURRENT_REQUESTS);
                exchange.getResponseHeaders().set("Retry-After", "1");
                exchange.getResponseHeaders().set("Connection", "close");
                reply(exchange, OpsApi.error(503, "SlowDown", "too many requests at once: retry in a second"));
                return;
            }
            try {
                handleAdmitted(exchange, method, rawPath);
            } finally {
                handling.release();
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("ops API: request from {} failed: {}", exchange.getRemoteAddress(), e.toString());
        }
    }

    private void handleAdmitted(HttpExchange exchange, String method, String rawPath) throws IOException {
        String rawQuery = exchange.getRequestURI().getRawQuery();
        byte[] body = readBody(exchange, method, rawPath);
        if (body == null) {
            return;
        }
        Map<String, String> query;
        try {
            query = query(rawQuery);
        } catch (IllegalArgumentException e) {
            reply(exchange, OpsApi.invalidQueryString());
            return;
        }
        var consoleFile = method.equals("GET") ? ConsoleFiles.at(rawPath) : java.util.Optional.<ConsoleFiles.File>empty();
        if (consoleFile.isPresent()) {
            send(exchange, new OpsApi.Response(200, consoleFile.get().contentType(), null), consoleFile.get().bytes());
            return;
        }
        boolean healthcheck = rawPath.equals("/_/healthcheck");
        if (healthcheck && !exchange.getRequestHeaders().containsKey("Authorization")) {
            reply(exchange, api.healthcheckStatus());
            return;
        }
        String reason = verifier.rejectReason(method, rawPath, rawQuery, exchange.getRequestHeaders()::get, body);
        if (reason != null) {
            logRefusal("ops API: {} {} from {} refused: {}", method, shown(rawPath), exchange.getRemoteAddress(), reason);
            reply(exchange, ACCESS_DENIED);
            return;
        }
        reply(exchange, api.handle(new OpsApi.Request(method, rawPath, query, new String(body, StandardCharsets.UTF_8))));
    }

    /**
     * The body, read up to {@value #MAX_BODY_BYTES} bytes within {@link #BODY_READ_TIMEOUT}; or null when it was refused
     * (413 or 408, already answered). A read blocks its (virtual) thread: when the time is up, the watchdog answers 408
     * and interrupts the read, which closes the connection.
     */
    private byte[] readBody(HttpExchange exchange, String method, String rawPath) throws IOException {
        AtomicBoolean settled = new AtomicBoolean();
        Thread reader = Thread.currentThread();
        ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> {
            if (settled.compareAndSet(false, true)) {
                logRefusal("ops API: {} {} from {} refused: its body took longer than {}", method, shown(rawPath), exchange.getRemoteAddress(),
                        BODY_READ_TIMEOUT);
                try {
                    exchange.getResponseHeaders().set("Connection", "close");
                    byte[] timeout = OpsApi.error(408, "RequestTimeout", "the request body did not arrive within "
                            + BODY_READ_TIMEOUT.toSeconds() + " s").body().getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().set("Content-Type", "application/json");
                    exchange.sendResponseHeaders(408, timeout.length);
                    exchange.getResponseBody().write(timeout);
                    exchange.getResponseBody().flush();
                } catch (IOException | RuntimeException e) {
                    LOG.debug("ops API: the 408 could not be sent", e);
                }
                reader.interrupt();
            }
        }, BODY_READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        byte[] body;
        try {
            body = exchange.getRequestBody().readNBytes(MAX_BODY_BYTES + 1);
        } catch (IOException e) {
            if (settled.get()) {
                return null;
            }
            throw e;
        } finally {
            watchdog.cancel(false);
        }
        if (!settled.compareAndSet(false, true)) {
            Thread.interrupted();
            return null;
        }
        if (body.length > MAX_BODY_BYTES) {
            logRefusal("ops API: {} {} from {} refused: a body over {} bytes", method, shown(rawPath), exchange.getRemoteAddress(), MAX_BODY_BYTES);
            exchange.getResponseHeaders().set("Connection", "close");
            if (lingerBriefly(exchange)) {
                reply(exchange, OpsApi.error(413, "RequestEntityTooLarge", "the request body is larger than " + MAX_BODY_BYTES + " bytes"));
            }
            return null;
        }
        return body;
    }

    /**
     * Reads and drops what is left of a refused body for a moment ({@link #LINGER}) before the answer, so that a client
     * still sending gets to read it: closing a connection with bytes unread resets it, and the reset can destroy the
     * answer in flight (nginx's "lingering close" does the same, after its answer: the JDK server closes a HEAD's
     * connection as soon as its answer is written). The bytes are dropped as they come: nothing is held.
     *
     * @return whether the body ended within the time and {@link #LINGER_BYTES} (otherwise the connection is closed, unanswered)
     */
    private static boolean lingerBriefly(HttpExchange exchange) {
        ScheduledFuture<?> stop = WATCHDOG.schedule(Thread.currentThread()::interrupt, LINGER.toMillis(), TimeUnit.MILLISECONDS);
        try {
            byte[] dropped = new byte[64 * 1024];
            long left = LINGER_BYTES;
            for (int read; left > 0 && (read = exchange.getRequestBody().read(dropped)) > 0; ) {
                left -= read;
            }
            return left > 0;
        } catch (IOException e) {
            // the time is up (the interrupt closed the connection), or the client went
            return false;
        } finally {
            stop.cancel(false);
            Thread.interrupted();
        }
    }

    /**
     * Logs a refusal, at most {@value #REFUSALS_LOGGED_PER_SECOND} a second: a caller who floods the port must not flood
     * the log (and the CPU that writes it) too. The refusals left out are counted in a line of their own.
     */
    private void logRefusal(String format, Object... arguments) {
        long second = System.currentTimeMillis() / 1000;
        long window = refusalWindow.get();
        if (second != window && refusalWindow.compareAndSet(window, second)) {
            refusalsInWindow.set(0);
            long left = refusalsLeftOut.getAndSet(0);
            if (left > 0) {
                LOG.warn("ops API: {} more requests refused in the second before, not logged one by one", left);
            }
        }
        if (refusalsInWindow.incrementAndGet() <= REFUSALS_LOGGED_PER_SECOND) {
            LOG.info(format, arguments);
        } else {
            refusalsLeftOut.incrementAndGet();
        }
    }

    /** A path as the log shows it: a caller chooses its length. */
    private static String shown(String rawPath) {
        return rawPath.length() > 200 ? rawPath.substring(0, 200) + "…" : rawPath;
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
        if (exchange.getRequestMethod().equals("HEAD")) {
            // A HEAD answer has the status and headers of a GET, no body (RFC 9110, section 9.3.2).
            exchange.sendResponseHeaders(response.status(), -1);
            return;
        }
        exchange.sendResponseHeaders(response.status(), body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
