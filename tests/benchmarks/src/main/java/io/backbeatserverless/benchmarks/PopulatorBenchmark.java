package io.backbeatserverless.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.core.ops.CheckpointStore;

import io.backbeatserverless.core.ops.MetricsStore;
import io.backbeatserverless.localstack.EmbeddedKafka;
import io.backbeatserverless.populator.CloudServerRecordLogFeed;
import io.backbeatserverless.populator.Populator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;


import java.util.concurrent.Callable;

/**
 * The populator's journal path: CloudServer's recorded record log replayed many times (each copy under
 * its own bucket names) is read over HTTP as {@code POST /MDFile/recordLog}, parsed, filtered and
 * published to a real Kafka broker with acks=all, checkpointing after every batch. Prints journal
 * records/s and entries published/s, median of the runs.
 */
@Command(name = "populator", mixinStandardHelpOptions = true, description = "Record-log parse, filter and publish rate.")
final class PopulatorBenchmark implements Callable<Integer> {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Option(names = "--copies", defaultValue = "4000", description = "copies of the 47-record log (default: ${DEFAULT-VALUE})")
    int copies;
    @Option(names = "--runs", defaultValue = "3", description = "runs (default: ${DEFAULT-VALUE})")
    int runs;
    @Option(names = "--results", defaultValue = "docs/benchmarks.md", description = "page the table is written to; '-' for none (default: ${DEFAULT-VALUE})")
    String results;
    @Option(names = "--batch", defaultValue = "1000", description = "records read per request (default: ${DEFAULT-VALUE})")
    int batch;

    @Override
    public Integer call() throws Exception {
        ArrayNode recorded;
        try (InputStream in = getClass().getResourceAsStream("/cloudserver-record-log.json")) {
            recorded = (ArrayNode) MAPPER.readTree(in).path("result").path("log");
        }
        List<byte[]> log = new ArrayList<>(copies * recorded.size());
        for (int c = 0; c < copies; c++) {
            for (JsonNode record : recorded) {
                ObjectNode copy = record.deepCopy();
                String db = copy.path("db").asText();
                if (db.endsWith("bucket") && !db.startsWith("users")) {
                    copy.put("db", db + "-" + c);
                }
                log.add(MAPPER.writeValueAsBytes(copy));
            }
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/MDFile/recordLog", exchange -> {
            JsonNode rpc = MAPPER.readTree(exchange.getRequestBody()).path("args").path("rpcArgs").get(0);
            int start = rpc.path("startSeq").asInt();
            int end = Math.min(log.size(), start + rpc.path("limit").asInt() - 1);
            StringBuilder body = new StringBuilder("{\"result\":{\"info\":{\"start\":1,\"end\":").append(log.size()).append("},\"log\":[");
            for (int seq = start; seq <= end; seq++) {
                body.append(seq > start ? "," : "").append(new String(log.get(seq - 1), java.nio.charset.StandardCharsets.UTF_8));
            }
            byte[] bytes = body.append("]}}").toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        List<Double> recordRates = new ArrayList<>();
        List<Double> entryRates = new ArrayList<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start("127.0.0.1", EmbeddedKafka.freePort())) {
            // Every run's topic exists before the first run: a topic created under load gets leader changes.
            Map<String, Integer> topics = new java.util.LinkedHashMap<>();
            for (int run = 1; run <= runs; run++) {
                topics.put("populator-bench-" + run, 8);
            }
            kafka.createTopics(topics);
            for (int run = 1; run <= runs; run++) {
                String topic = "populator-bench-" + run;
                URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/MDFile/recordLog");
                try (EntryPublisher publisher = EntryPublisher.connect(kafka.bootstrapServers(), "populator-bench")) {
                    Populator populator = new Populator(new CloudServerRecordLogFeed(url, "s3-recordlog", new LatestCheckpoint(), batch),
                            publisher, topic, List.of("aws-location"), Duration.ofMillis(1), MetricsStore.NONE, Clock.systemUTC());
                    long started = System.nanoTime();
                    while (populator.pollOnce().moved()) {
                        // until the whole log is read
                    }
                    double seconds = (System.nanoTime() - started) / 1e9;
                    recordRates.add(log.size() / seconds);
                    entryRates.add(populator.published() / seconds);
                    System.out.printf("run %d: %d records, %d entries published in %.2f s: %.0f records/s, %.0f entries/s%n",
                            run, log.size(), populator.published(), seconds, log.size() / seconds, populator.published() / seconds);
                }
            }
        } finally {
            server.stop(0);
        }
        String table = "| journal records | runs | records/s (median, min-max) | entries published/s (median, min-max) |\n|---|---|---|---|\n"
                + String.format("| %d | %d | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) |%n", log.size(), runs,
                Stats.median(recordRates), Stats.min(recordRates), Stats.max(recordRates),
                Stats.median(entryRates), Stats.min(entryRates), Stats.max(entryRates));
        System.out.println();
        System.out.println(table);
        if (!"-".equals(results)) {
            ResultsPage.write(Path.of(results), "populator", "tests/benchmarks/run populator --copies " + copies + " --runs " + runs
                    + " --batch " + batch, table);
        }
        return 0;
    }

    /** Checkpoints in memory: this measures the journal path, not DynamoDB. */
    private static final class LatestCheckpoint implements CheckpointStore {
        private long position = -1;

        @Override
        public OptionalLong load(String feed) {
            return position < 0 ? OptionalLong.empty() : OptionalLong.of(position);
        }

        @Override
        public java.util.Optional<String> loadState(String feed) {
            return java.util.Optional.empty();
        }

        @Override
        public void saveState(String feed, String state) {
        }

        @Override
        public boolean save(String feed, long newPosition) {
            position = Math.max(position, newPosition);
            return true;
        }
    }
}
