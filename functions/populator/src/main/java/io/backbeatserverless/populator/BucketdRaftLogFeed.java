package io.backbeatserverless.populator;

import io.backbeatserverless.core.ops.CheckpointStore;

import java.io.IOException;
import java.net.URI;

/**
 * An S3 Connector bucketd raft session's log: {@code GET <base>/_/raft_sessions/<id>/log?begin=<seq>&limit=<n>},
 * answered {@code {"info":{"start","cseq",...},"log":[{"db","entries":[...]}]}}.
 */
public final class BucketdRaftLogFeed extends MetadataLogFeed {

    private final URI base;
    private final int raftSession;

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
        return exchange(journalRequest(uri).GET().build(), startSeq, "cseq", "bucketd");
    }
}
