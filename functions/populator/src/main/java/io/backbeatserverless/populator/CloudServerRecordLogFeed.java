package io.backbeatserverless.populator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.ops.CheckpointStore;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * CloudServer's record log (file metadata backend with {@code recordLog.enabled}) over its metadata REST
 * interface: {@code POST /MDFile/recordLog} with
 * {@code {"call":"readRecords","args":{"logName":..,"rpcArgs":[{"startSeq":..,"limit":..}]}}}, answered
 * {@code {"result":{"info":{"start","end"},"log":[...]}}}.
 */
public final class CloudServerRecordLogFeed extends MetadataLogFeed {

    private final URI url;
    private final String logName;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public CloudServerRecordLogFeed(URI url, String logName, CheckpointStore checkpoints, int batchSize) {
        super("cloudserver-record-log:" + url.getAuthority() + ":" + logName, checkpoints, batchSize);
        this.url = url;
        this.logName = logName;
    }

    @Override
    public String name() {
        return "cloudserver-record-log";
    }

    @Override
    protected LogRead read(long startSeq, int limit) throws IOException, InterruptedException {
        ObjectNode call = MAPPER.createObjectNode();
        call.put("call", "readRecords");
        ObjectNode args = call.putObject("args");
        args.put("logName", logName);
        args.putArray("rpcArgs").addObject().put("startSeq", startSeq).put("limit", limit);
        HttpResponse<java.io.InputStream> response = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(MAPPER.writeValueAsString(call))).build(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            throw new IOException("record log at " + url + " answered HTTP " + response.statusCode() + ": " + errorBody(response));
        }
        JournalReader.Answer answer;
        try (java.io.InputStream body = response.body()) {
            answer = JournalReader.read(body);
        }
        long start = answer.info().path("start").asLong(startSeq);
        return new LogRead(Math.max(startSeq, start), answer.records(), answer.info().path("end").asLong(0));
    }
}
