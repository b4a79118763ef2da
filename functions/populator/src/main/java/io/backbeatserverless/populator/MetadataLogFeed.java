package io.backbeatserverless.populator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.ops.CheckpointStore;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A metadata journal as a change feed: CloudServer's record log or bucketd's raft log. Both are
 * sequences of records {@code {"db": <bucket>, "entries": [{"type", "key", "value"}]}} numbered from 1.
 * A record's versions are kept when they are puts of a version key ({@code <key>\u0000<versionId>})
 * whose {@code replicationInfo.status} is PENDING: CloudServer already matched the bucket's rules and
 * named the sites. Everything else is skipped: bucket records ({@code __metastore},
 * {@code users..bucket}), MPU shadow buckets, master keys, deletes of a version (not replicated),
 * versions without replication, replicas (REPLICA) and this engine's own status write-backs
 * (COMPLETED, FAILED). The checkpoint is the last sequence number read, stored after the batch is in Kafka.
 */
public abstract class MetadataLogFeed implements ChangeFeed {

    private static final Logger LOG = LoggerFactory.getLogger(MetadataLogFeed.class);
    protected static final ObjectMapper MAPPER = new ObjectMapper();

    private final String checkpointName;
    private final CheckpointStore checkpoints;
    private final int batchSize;
    private long position = -1;
    private final AtomicLong recordsRead = new AtomicLong();
    private final AtomicLong versionsFound = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private volatile long head;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** How long a journal answer's body may take to arrive whole (the headers have their own timeout). */
    private Duration bodyTimeout = Duration.ofSeconds(60);

    protected MetadataLogFeed(String checkpointName, CheckpointStore checkpoints, int batchSize) {
        this.checkpointName = checkpointName;
        this.checkpoints = checkpoints;
        this.batchSize = batchSize;
    }

    /** Records from {@code startSeq} on, at most {@code limit}. */
    protected abstract LogRead read(long startSeq, int limit) throws IOException, InterruptedException;

    /**
     * A read of the journal.
     *
     * @param firstSeq sequence number of the first record returned
     * @param records  the records, in order
     * @param head     the journal's last sequence number
     */
    protected record LogRead(long firstSeq, List<JournalReader.LogRecord> records, long head) {
    }

    @Override
    public Batch next() throws IOException, InterruptedException {
        if (position < 0) {
            position = checkpoints.load(checkpointName).orElse(0);
            LOG.info("{} feed starts after sequence {}", name(), position);
        }
        LogRead read = read(position + 1, batchSize);
        head = read.head();
        if (read.records().isEmpty()) {
            return Batch.empty();
        }
        List<SourceVersion> versions = new ArrayList<>();
        long seq = read.firstSeq();
        for (JournalReader.LogRecord record : read.records()) {
            versions.addAll(versionsOf(record, seq));
            seq++;
        }
        recordsRead.addAndGet(read.records().size());
        versionsFound.addAndGet(versions.size());
        return new Batch(versions, seq - 1);
    }

    /** The replicable versions of one journal record. */
    List<SourceVersion> versionsOf(JournalReader.LogRecord record, long seq) {
        String db = record.db();
        if (JournalReader.isBucketRecord(db)) {
            skipped.addAndGet(record.entries().size());
            return List.of();
        }
        List<SourceVersion> versions = new ArrayList<>();
        for (JournalReader.LogEntry entry : record.entries()) {
            String key = entry.key();
            if ((entry.type() != null && !"put".equals(entry.type())) || !VersionKey.isVersionKey(key) || entry.value() == null
                    // Most journal entries are not pending replication: skip those before parsing their JSON.
                    || !entry.value().contains("\"PENDING\"")) {
                skipped.incrementAndGet();
                continue;
            }
            ObjectMetadata metadata;
            try {
                metadata = ObjectMetadata.parse(entry.value());
            } catch (IOException e) {
                skipped.incrementAndGet();
                LOG.error("{} feed: record {} of {} has a value that is not object metadata, skipped: {}", name(), seq, db, e.getMessage());
                continue;
            }
            if (metadata.replicationInfo().map(i -> i.status() != ReplicationStatus.PENDING).orElse(true)) {
                skipped.incrementAndGet();
                continue;
            }
            VersionKey versionKey = VersionKey.parse(key);
            versions.add(new SourceVersion(db, metadata.objectKey() == null || metadata.versionId() == null
                    ? withKey(metadata, versionKey) : metadata, seq, record.timestamp()));
        }
        return versions;
    }

    private static ObjectMetadata withKey(ObjectMetadata metadata, VersionKey key) {
        ObjectNode doc = metadata.toJson();
        doc.put("key", key.objectKey());
        doc.put("versionId", key.versionId());
        return ObjectMetadata.of(doc);
    }

    /**
     * Sends one journal read and decodes its answer; both feeds answer the same {@code info}/{@code log} shape,
     * differing only in which {@code info} field names the journal's head.
     */
    protected final LogRead exchange(HttpRequest request, long startSeq, String headField, String server)
            throws IOException, InterruptedException {
        HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        JournalReader.Answer answer;
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                throw new IOException(server + " at " + request.uri() + " answered HTTP " + response.statusCode() + ": "
                        + new String(body.readNBytes(2000), StandardCharsets.UTF_8));
            }
            answer = readWithin(body, request, server);
        }
        long start = answer.info().path("start").asLong(startSeq);
        return new LogRead(Math.max(startSeq, start), answer.records(), answer.info().path(headField).asLong(0));
    }

    /**
     * Reads the answer's body, giving up after {@link #bodyTimeout}: the request's own timeout covers only the
     * wait for the headers, and a server that stops in the middle of a body would hold the populator forever.
     */
    private JournalReader.Answer readWithin(InputStream body, HttpRequest request, String server) throws IOException, InterruptedException {
        java.util.concurrent.FutureTask<JournalReader.Answer> reading = new java.util.concurrent.FutureTask<>(() -> JournalReader.read(body));
        Thread.ofVirtual().name("journal-read").start(reading);
        try {
            return reading.get(bodyTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            reading.cancel(true);
            throw new java.net.http.HttpTimeoutException(server + " at " + request.uri() + " sent no complete answer within "
                    + bodyTimeout.toSeconds() + " s");
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** A request to the journal's server, with the read timeout every journal read shares. */
    protected static HttpRequest.Builder journalRequest(java.net.URI uri) {
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30));
    }

    @Override
    public void acknowledge(Batch batch) {
        if (batch.position() instanceof Long seq) {
            checkpoints.save(checkpointName, seq);
            position = seq;
        }
    }

    /** For tests: a shorter wait for a journal answer's body. */
    void bodyTimeout(Duration timeout) {
        this.bodyTimeout = timeout;
    }

    /** The last sequence number acknowledged (0 before any). */
    public long position() {
        return Math.max(position, 0);
    }

    public long head() {
        return head;
    }

    public long recordsRead() {
        return recordsRead.get();
    }

    public long versionsFound() {
        return versionsFound.get();
    }

    public long skipped() {
        return skipped.get();
    }
}
