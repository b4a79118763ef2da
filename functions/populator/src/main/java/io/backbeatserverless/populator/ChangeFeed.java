package io.backbeatserverless.populator;

import java.util.List;

/**
 * A source's change feed: yields object versions with their metadata (replicationInfo included) and
 * a resumable position. One class per feed. The {@link Populator} publishes a batch, waits for Kafka
 * to acknowledge every entry, and only then calls {@link #acknowledge}, which is where a feed moves
 * its checkpoint: a crash in between replays the batch (duplicates), never skips it (gaps).
 */
public interface ChangeFeed extends AutoCloseable {

    /** The next changes, possibly none. */
    Batch next() throws Exception;

    /** Every version of {@code batch} is in Kafka: move the checkpoint past it. */
    void acknowledge(Batch batch);

    /** A name for logs and metrics, e.g. {@code listing}. */
    String name();

    @Override
    default void close() {
    }

    /** Versions in the order they must be applied (oldest first for each object). */
    record Batch(List<SourceVersion> versions, Object position) {
        public Batch {
            versions = List.copyOf(versions);
        }

        public static Batch empty() {
            return new Batch(List.of(), null);
        }

        public boolean isEmpty() {
            return versions.isEmpty();
        }
    }
}
