package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The CloudWatch embedded-metric-format lines the in-process functions print on standard output (as CloudWatch Logs
 * would receive them from Lambda), collected for the whole run; standard output still gets every byte.
 */
final class EmfCapture {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static EmfCapture installed;
    private final List<JsonNode> lines = new CopyOnWriteArrayList<>();

    static synchronized EmfCapture install() {
        if (installed == null) {
            installed = new EmfCapture();
            PrintStream original = System.out;
            System.setOut(new PrintStream(new OutputStream() {
                private final ByteArrayOutputStream line = new ByteArrayOutputStream();

                @Override
                public synchronized void write(int b) {
                    original.write(b);
                    if (b == '\n') {
                        installed.take(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                    } else {
                        line.write(b);
                    }
                }
            }, true, StandardCharsets.UTF_8));
        }
        return installed;
    }

    private void take(String line) {
        if (line.startsWith("{") && line.contains("\"_aws\"")) {
            try {
                lines.add(MAPPER.readTree(line));
            } catch (java.io.IOException e) {
                // not a JSON line after all
            }
        }
    }

    /** The EMF lines of namespace {@code namespace} printed so far. */
    List<JsonNode> lines(String namespace) {
        return lines.stream().filter(l -> l.path("_aws").path("CloudWatchMetrics").path(0).path("Namespace").asText().equals(namespace))
                .toList();
    }
}
