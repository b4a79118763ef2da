package io.backbeatserverless.core.ops;

import java.time.Instant;
import java.util.List;

/** Failed entries per site, ordered by failure time; entries past their expiry are never returned. */
public interface FailedEntryStore {

    /**
     * Keeps {@code entry} as the version's one failed entry at its site: an entry of the same version and site
     * recorded before (an earlier failure, or the same one recorded again) is replaced.
     */
    void record(FailedEntry entry);

    /**
     * Up to {@code limit} entries of a site after {@code marker} (null: from the first), oldest failure first.
     * The page's {@code nextMarker} (an opaque string) continues where it ended; each page is one read of the store.
     */
    Page list(String site, String marker, int limit, Instant now);

    /** Every unexpired failed entry of one version, at any site. */
    List<FailedEntry> findByVersion(String bucket, String objectKey, String versionId, Instant now);

    /** Removes the version's failed entries at {@code site} (it has since completed). */
    void remove(String site, String bucket, String objectKey, String versionId);

    /** Removes this one entry, and not a newer failure of the same version recorded since (a retry that failed again). */
    void removeEntry(FailedEntry entry);

    record Page(List<FailedEntry> entries, boolean truncated, String nextMarker) {
    }
}
