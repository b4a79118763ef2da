package io.backbeatserverless.populator;

import io.backbeatserverless.core.ops.CheckpointStore;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

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
        HttpResponse<java.io.InputStream> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            throw new IOException("bucketd at " + uri + " answered HTTP " + response.statusCode() + ": " + errorBody(response));
        }
        JournalReader.Answer answer;
        try (java.io.InputStream body = response.body()) {
            answer = JournalReader.read(body);
        }
        long start = answer.info().path("start").asLong(startSeq);
        return new LogRead(Math.max(startSeq, start), answer.records(), answer.info().path("cseq").asLong(0));
    }
}
