package io.backbeatserverless.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A record log served the way CloudServer serves its own ({@code POST /MDFile/recordLog}, the shape of
 * shared/reference's recording), written by the load generator: one record per object it puts to the stack's S3
 * server, appended once the put is acknowledged (CloudServer logs the metadata write of the put itself), with the
 * version's metadata PENDING for the benchmark's site. It lets the live race run the record-log feed on this machine,
 * where no CloudServer runs; the source stays the stack's S3 server (source type {@code s3}: no status write-back).
 */
final class RecordLogServer implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final HttpServer server;
    private final List<String> records = new ArrayList<>();

    private RecordLogServer(HttpServer server) {
        this.server = server;
    }

    static RecordLogServer start() throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        RecordLogServer log = new RecordLogServer(http);
        http.createContext("/MDFile/recordLog", exchange -> {
            var rpc = MAPPER.readTree(exchange.getRequestBody()).path("args").path("rpcArgs").get(0);
            byte[] bytes = log.answer(rpc.path("startSeq").asLong(1), rpc.path("limit").asInt(1000));
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        http.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        http.start();
        return log;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/MDFile/recordLog";
    }

    /** Logs the put of one version, as CloudServer would: its metadata, PENDING for {@code site}. */
    void logPut(String bucket, String key, String versionId, long size, String eTag, String site) {
        ObjectNode md = MAPPER.createObjectNode();
        md.put("owner-display-name", "bench").put("owner-id", "bench").put("content-length", size)
                .put("content-type", "application/octet-stream").put("content-md5", eTag.replace("\"", ""))
                .put("x-amz-version-id", "null").put("x-amz-storage-class", "STANDARD").put("key", key)
                .put("isDeleteMarker", false).put("last-modified", Instant.now().toString()).put("md-model-version", 6)
                .put("versionId", versionId);
        md.putObject("tags");
        ObjectNode info = md.putObject("replicationInfo");
        info.put("status", "PENDING");
        info.putArray("backends").addObject().put("site", site).put("status", "PENDING").put("dataStoreVersionId", "");
        info.putArray("content").add("DATA").add("METADATA");
        info.put("destination", "arn:aws:s3:::" + bucket).put("storageClass", site).put("role", "arn:aws:iam::root:role/bench")
                .put("storageType", "").put("dataStoreVersionId", "");
        ObjectNode record = MAPPER.createObjectNode();
        record.put("timestamp", Instant.now().toString()).put("db", bucket);
        record.putArray("entries").addObject().put("type", "put").put("key", key + "\u0000" + versionId).put("value", md.toString());
        String text = record.toString();
        synchronized (records) {
            records.add(text);
        }
    }

    private byte[] answer(long startSeq, int limit) {
        StringBuilder body = new StringBuilder();
        synchronized (records) {
            body.append("{\"result\":{\"info\":{\"start\":1,\"end\":").append(records.size()).append("},\"log\":[");
            long end = Math.min(records.size(), startSeq + limit - 1);
            for (long seq = startSeq; seq <= end; seq++) {
                body.append(seq > startSeq ? "," : "").append(records.get((int) seq - 1));
            }
        }
        return body.append("]}}").toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
