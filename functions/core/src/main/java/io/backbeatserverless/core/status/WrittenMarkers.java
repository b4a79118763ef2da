package io.backbeatserverless.core.status;

import java.util.Collection;
import java.util.Set;

/**
 * The source delete markers a site's replicator has written (or is writing) at an S3 site, by key: its own record, read
 * back at once, beside the status table, which learns an outcome only when the status processor records it (seconds;
 * 55 s in the chaos run that found this, and longer while the processor is down). A delete marker at an S3 site carries
 * no metadata, so only this record says which source marker a site marker stands for: without it, a key's older history
 * replicated late (a backfill page) took the newest marker, made first on an empty key, for an older one's, and went over it.
 */
public interface WrittenMarkers {

    /** Records that {@code sourceMarker} of the key is being written at {@code site}: before the DELETE, so no crash hides it. */
    void noteWriting(String site, String bucket, String objectKey, String sourceMarker);

    /** Of {@code sourceMarkers} of the key, those recorded as written at {@code site} (one read for all of them). */
    Set<String> written(String site, String bucket, String objectKey, Collection<String> sourceMarkers);

    /** Records nothing, knows nothing (a replicator without the table). */
    WrittenMarkers NONE = new WrittenMarkers() {
        @Override
        public void noteWriting(String site, String bucket, String objectKey, String sourceMarker) {
        }

        @Override
        public Set<String> written(String site, String bucket, String objectKey, Collection<String> sourceMarkers) {
            return Set.of();
        }
    };
}
