package io.backbeatserverless.populator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.ops.CheckpointStore;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;

/**
 * CloudServer's record log (file metadata backend with {@code recordLog.enabled}) over its metadata REST
 * interface: {@code POST /MDFile/recordLog} with
 * {@code {"call":"readRecords","args":{"logName":..,"rpcArgs":[{"startSeq":..,"limit":..}]}}}, answered
 * {@code {"result":{"info":{"start","end"},"log":[...]}}}.
 */
public final class CloudServerRecordLogFeed extends MetadataLogFeed {

    private final URI url;
    private final String logName;

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
        return exchange(journalRequest(url).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(MAPPER.writeValueAsString(call))).build(), startSeq, "end", "record log");
    }
}
