package io.backbeatserverless.tests;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An HTTP/1.1 server that behaves as CloudServer does on its backbeat routes: it never answers
 * {@code Expect: 100-continue} with {@code 100 Continue}, it just reads the body when it comes. (The JDK's
 * HttpServer answers it by itself, which is how a client's 3-second continue wait went unseen.) Answers come
 * from a handler; keep-alive, one request at a time per connection.
 */
final class CloudServerLikeServer implements AutoCloseable {

    record Request(String method, String path, String query, Map<String, List<String>> headers, byte[] body) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(e -> e.getValue().getFirst())
                    .findFirst().orElse(null);
        }
    }

    record Answer(int status, byte[] body) {
    }

    interface Handler {
        Answer handle(Request request) throws IOException;
    }

    private final ServerSocket socket;
    private final ExecutorService connections = Executors.newVirtualThreadPerTaskExecutor();

    CloudServerLikeServer(Handler handler) throws IOException {
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        connections.submit(() -> {
            while (!socket.isClosed()) {
                try {
                    Socket connection = socket.accept();
                    connections.submit(() -> serve(connection, handler));
                } catch (IOException closed) {
                    return null;
                }
            }
            return null;
        });
    }

    int port() {
        return socket.getLocalPort();
    }

    private static Void serve(Socket connection, Handler handler) {
        try (connection; InputStream in = new BufferedInputStream(connection.getInputStream());
             OutputStream out = connection.getOutputStream()) {
            while (true) {
                String requestLine = line(in);
                if (requestLine == null || requestLine.isEmpty()) {
                    return null;
                }
                Map<String, List<String>> headers = new LinkedHashMap<>();
                for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                    int colon = h.indexOf(':');
                    headers.computeIfAbsent(h.substring(0, colon).trim(), k -> new ArrayList<>()).add(h.substring(colon + 1).trim());
                }
                String[] parts = requestLine.split(" ");
                String target = parts[1];
                int q = target.indexOf('?');
                Request request = new Request(parts[0], q < 0 ? target : target.substring(0, q), q < 0 ? null : target.substring(q + 1),
                        headers, null);
                String length = request.header("Content-Length");
                byte[] body = in.readNBytes(length == null ? 0 : Integer.parseInt(length)); // no 100 Continue first
                Answer answer = handler.handle(new Request(request.method(), request.path(), request.query(), headers, body));
                out.write(("HTTP/1.1 " + answer.status() + " OK\r\nContent-Type: application/json\r\nContent-Length: "
                        + answer.body().length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(answer.body());
                out.flush();
                if ("close".equals(request.header("Connection") == null ? null : request.header("Connection").toLowerCase(Locale.ROOT))) {
                    return null;
                }
            }
        } catch (IOException | RuntimeException gone) {
            return null;
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != -1; b = in.read()) {
            if (b == '\n') {
                String text = line.toString(StandardCharsets.ISO_8859_1);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
        connections.shutdownNow();
    }
}
