package io.backbeatserverless.core.ops;

import java.util.OptionalLong;

/**
 * Where each change feed's resumable position lives (Backbeat's ZooKeeper {@code logState/<id>/logOffset}).
 * Saving never moves a checkpoint backwards: a slower, older writer cannot undo a newer one.
 */
public interface CheckpointStore {

    OptionalLong load(String feed);

    /** Records {@code position} unless a later one is already there; returns whether it was written. */
    boolean save(String feed, long position);

    /** A feed's position when it is not a number (a listing's markers and progress, as JSON text). */
    java.util.Optional<String> loadState(String feed);

    void saveState(String feed, String state);
}
