package io.backbeatserverless.core.ops;

import java.time.Instant;
import java.util.List;

/** Failed entries per site, ordered by failure time; entries past their expiry are never returned. */
public interface FailedEntryStore {

    void record(FailedEntry entry);

    /** Up to {@code limit} entries of a site after the first {@code offset}, oldest failure first. */
    Page list(String site, int offset, int limit, Instant now);

    /** Every unexpired failed entry of one version, at any site. */
    List<FailedEntry> findByVersion(String bucket, String objectKey, String versionId, Instant now);

    /** Removes the version's failed entries at {@code site} (it was retried or has since completed). */
    void remove(String site, String bucket, String objectKey, String versionId);

    record Page(List<FailedEntry> entries, boolean truncated, int nextOffset) {
    }
}
