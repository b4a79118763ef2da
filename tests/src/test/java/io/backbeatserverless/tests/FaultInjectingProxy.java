package io.backbeatserverless.tests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A proxy on 127.0.0.1 in front of a real S3 server that misbehaves like an overloaded store on a
 * flaky network, request by request: a share of HTTP requests is answered {@code 503 SlowDown}, a
 * share has its connection reset before it reaches the server, and a share is cut part-way through
 * its body; the rest are forwarded faithfully. It counts what it did, so a test can prove faults happened.
 */
final class FaultInjectingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final int targetPort;
    private final double rejectShare;
    private final double resetShare;
    private final double cutShare;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong faults = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicReference<Hold> hold = new java.util.concurrent.atomic.AtomicReference<>();
    /** A site that is down: every request's connection is reset before it reaches the server. */
    private volatile boolean down;

    /** A request to hold back until something has happened meanwhile: one interleaving, made to happen. */
    private record Hold(java.util.function.Predicate<String> request, Runnable meanwhile,
                        java.util.concurrent.CompletableFuture<String> held) {
    }

    FaultInjectingProxy(int targetPort, double rejectShare, double resetShare, double cutShare) throws IOException {
        this.server = new ServerSocket();
        this.server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.targetPort = targetPort;
        this.rejectShare = rejectShare;
        this.resetShare = resetShare;
        this.cutShare = cutShare;
        Thread.ofPlatform().daemon().name("fault-proxy-accept").start(this::acceptLoop);
    }

    /**
     * Once: the first request whose head (request line and headers) {@code request} accepts waits, before it reaches the
     * server, until {@code meanwhile} has run; it is then forwarded (and may still meet the proxy's faults). The future
     * completes with that request's head once it is forwarded, or exceptionally with what {@code meanwhile} threw.
     */
    java.util.concurrent.CompletableFuture<String> holdOnce(java.util.function.Predicate<String> request, Runnable meanwhile) {
        Hold armed = new Hold(request, meanwhile, new java.util.concurrent.CompletableFuture<>());
        hold.set(armed);
        return armed.held();
    }

    int port() {
        return server.getLocalPort();
    }

    long faults() {
        return faults.get();
    }

    /** Down: every request is reset until {@code down(false)} (a site unreachable for a while, then back). */
    void down(boolean isDown) {
        this.down = isDown;
    }

    long requests() {
        return requests.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Thread.ofVirtual().start(() -> handle(client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void handle(Socket client) {
        try (client; Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort)) {
            Thread.ofVirtual().start(() -> relayResponses(target, client));
            InputStream in = client.getInputStream();
            OutputStream toServer = target.getOutputStream();
            byte[] head;
            // The client sends its next request only after the previous response: requests are never pipelined.
            while ((head = readHead(in)) != null) {
                requests.incrementAndGet();
                String headText = new String(head, StandardCharsets.ISO_8859_1);
                Hold armed = hold.get();
                if (armed != null && armed.request().test(headText) && hold.compareAndSet(armed, null)) {
                    try {
                        armed.meanwhile().run();
                        armed.held().complete(headText);
                    } catch (RuntimeException e) {
                        armed.held().completeExceptionally(e);
                    }
                }
                long length = contentLength(headText);
                if (down) {
                    faults.incrementAndGet();
                    reset(client, target);
                    return;
                }
                double roll = ThreadLocalRandom.current().nextDouble();
                if (roll < rejectShare) {
                    faults.incrementAndGet();
                    reject(client);
                    return;
                }
                if (roll < rejectShare + resetShare) {
                    faults.incrementAndGet();
                    reset(client, target);
                    return;
                }
                toServer.write(head);
                toServer.flush();
                if (length < 0) {
                    in.transferTo(toServer); // chunked or unknown: plain relay from here on
                    return;
                }
                long cutAt = roll < rejectShare + resetShare + cutShare && length > 0
                        ? ThreadLocalRandom.current().nextLong(length) : -1;
                if (!copy(in, toServer, length, cutAt)) {
                    faults.incrementAndGet();
                    reset(client, target);
                    return;
                }
            }
        } catch (IOException ignored) {
            // a side closed: the client sees a broken connection, which is the point
        }
    }

    /** Copies {@code length} bytes, or stops at {@code cutAt} (when not negative) and returns false. */
    private static boolean copy(InputStream in, OutputStream out, long length, long cutAt) throws IOException {
        byte[] buffer = new byte[16 * 1024];
        long copied = 0;
        long limit = cutAt >= 0 ? cutAt : length;
        while (copied < limit) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, limit - copied));
            if (n < 0) {
                throw new IOException("client closed mid-body");
            }
            out.write(buffer, 0, n);
            copied += n;
        }
        out.flush();
        return cutAt < 0;
    }

    private static void reject(Socket client) throws IOException {
        byte[] body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                .getBytes(StandardCharsets.UTF_8);
        OutputStream out = client.getOutputStream();
        out.write(("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    private static void reset(Socket client, Socket target) throws IOException {
        client.setSoLinger(true, 0); // close with RST: a dropped connection
        target.setSoLinger(true, 0);
        client.close();
        target.close();
    }

    private static void relayResponses(Socket target, Socket client) {
        try {
            target.getInputStream().transferTo(client.getOutputStream());
        } catch (IOException ignored) {
            // closed
        } finally {
            try {
                client.close();
            } catch (IOException ignored) {
                // closed
            }
        }
    }

    /** Reads an HTTP request head up to and including the blank line; null at end of stream. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(512);
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3)) ? matched + 1 : 0;
            if (matched == 4) {
                return head.toByteArray();
            }
        }
        return null;
    }

    private static long contentLength(String head) {
        long length = 0;
        for (String line : head.split("\r\n")) {
            String lower = line.toLowerCase(Locale.ROOT);
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                return -1;
            }
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        return length;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
