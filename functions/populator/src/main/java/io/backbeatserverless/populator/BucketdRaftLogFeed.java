package io.backbeatserverless.populator;

import com.fasterxml.jackson.databind.JsonNode;
import io.backbeatserverless.core.ops.CheckpointStore;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * An S3 Connector bucketd raft session's log: {@code GET <base>/_/raft_sessions/<id>/log?begin=<seq>&limit=<n>},
 * answered {@code {"info":{"start","cseq",...},"log":[{"db","entries":[...]}]}}.
 */
public final class BucketdRaftLogFeed extends MetadataLogFeed {

    private final URI base;
    private final int raftSession;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public BucketdRaftLogFeed(URI base, int raftSession, CheckpointStore checkpoints, int batchSize) {
        super("bucketd-raft-log:" + base.getAuthority() + ":" + raftSession, checkpoints, batchSize);
        this.base = base;
        this.raftSession = raftSession;
    }

    @Override
    public String name() {
        return "bucketd-raft-log";
    }

    @Override
    protected LogRead read(long startSeq, int limit) throws IOException, InterruptedException {
        URI uri = base.resolve("/_/raft_sessions/" + raftSession + "/log?begin=" + startSeq + "&limit=" + limit);
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("bucketd at " + uri + " answered HTTP " + response.statusCode() + ": " + response.body());
        }
        JsonNode answer = MAPPER.readTree(response.body());
        List<JsonNode> records = new ArrayList<>();
        answer.path("log").forEach(records::add);
        long start = answer.path("info").path("start").asLong(startSeq);
        return new LogRead(Math.max(startSeq, start), records, answer.path("info").path("cseq").asLong(0));
    }
}
