package io.backbeatserverless.benchmarks;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The leanest copy loop: one keep-alive socket per thread to each server, a bare HTTP/1.1 GET of the
 * source version and a bare PUT of its bytes, nothing else (no SDK, no signing: local-s3 does not
 * check signatures, no checksums, no metadata). It stands for what these two servers allow, not for a
 * usable S3 client.
 */
final class LeanCopyLoop {

    private LeanCopyLoop() {
    }

    /** Copies every key (at its version) from source/bucket to destination/target with {@code threads} threads; returns seconds. */
    static double copy(URI source, URI destination, String bucket, String target, List<Map.Entry<String, String>> versions, int threads)
            throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger retried = new AtomicInteger();
        long started = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<Void>> workers = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    try (Connection from = new Connection(source); Connection to = new Connection(destination)) {
                        for (int i = next.getAndIncrement(); i < versions.size(); i = next.getAndIncrement()) {
                            Map.Entry<String, String> v = versions.get(i);
                            byte[] body = from.exchange("GET", "/" + bucket + "/" + encode(v.getKey()) + "?versionId=" + encode(v.getValue()), null);
                            // A 500 or 503 is tried again, as S3 asks of every client (the SDK's standard retries do so).
                            for (int attempt = 1; ; attempt++) {
                                try {
                                    to.exchange("PUT", "/" + target + "/" + encode(v.getKey()), body);
                                    break;
                                } catch (ServerError e) {
                                    if (attempt == 3) {
                                        throw e;
                                    }
                                    retried.incrementAndGet();
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<Void> w : workers) {
                w.get();
            }
        }
        if (retried.get() > 0) {
            System.err.println("leanest loop: " + retried.get() + " PUTs tried again after a 500 or 503");
        }
        return (System.nanoTime() - started) / 1e9;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A server's 5xx answer, read whole (the connection stays usable unless the server closes it). */
    private static final class ServerError extends IOException {
        ServerError(String message) {
            super(message);
        }
    }

    private static final class Connection implements AutoCloseable {
        private final URI server;
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        Connection(URI server) {
            this.server = server;
        }

        byte[] exchange(String method, String path, byte[] body) throws IOException {
            if (socket == null) {
                socket = new Socket();
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(server.getHost(), server.getPort()));
                in = new BufferedInputStream(socket.getInputStream(), 65536);
                out = new BufferedOutputStream(socket.getOutputStream(), 65536);
            }
            String head = method + " " + path + " HTTP/1.1\r\nHost: " + server.getAuthority() + "\r\n"
                    + (body != null ? "Content-Length: " + body.length + "\r\n" : "") + "\r\n";
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                out.write(body);
            }
            out.flush();
            String status = line();
            long length = 0;
            boolean close = false;
            for (String header = line(); !header.isEmpty(); header = line()) {
                int colon = header.indexOf(':');
                String name = header.substring(0, colon).trim();
                if (name.equalsIgnoreCase("Content-Length")) {
                    length = Long.parseLong(header.substring(colon + 1).trim());
                } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
                    throw new IOException(server.getAuthority() + " answered " + method + " " + path + " in chunks, which this loop does not read");
                } else if (name.equalsIgnoreCase("Connection") && header.substring(colon + 1).trim().equalsIgnoreCase("close")) {
                    close = true;
                }
            }
            byte[] response = in.readNBytes((int) length);
            if (status.startsWith("HTTP/1.1 5")) {
                if (close) {
                    close();
                }
                throw new ServerError(method + " " + path + ": " + status + " " + new String(response, StandardCharsets.UTF_8));
            }
            if (!status.contains(" 200")) {
                throw new IOException(method + " " + path + ": " + status + " " + new String(response, StandardCharsets.UTF_8));
            }
            if (close) {
                close();
            }
            return response;
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new IOException("connection closed by " + server.getAuthority());
                }
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }

        @Override
        public void close() throws IOException {
            if (socket != null) {
                socket.close();
                socket = null;
            }
        }
    }
}
