package io.backbeatserverless.core.versions;

/**
 * What a listing says of one entry of a key's history, all that {@link io.backbeatserverless.core.backfill.PageDiff}
 * compares two histories by: its size, its ETag, whether it is a delete marker.
 */
public interface ListedEntry {

    long size();

    String eTag();

    boolean deleteMarker();
}
