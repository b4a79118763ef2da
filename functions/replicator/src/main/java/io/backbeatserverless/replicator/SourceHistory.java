package io.backbeatserverless.replicator;

import io.backbeatserverless.core.metadata.Timestamps;
import software.amazon.awssdk.services.s3.S3Client;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * Which of two versions of a key is newer at the source. Their source last-modified times decide, except when they are
 * equal: S3 keeps whole seconds, so a put and a delete of the same key in the same second tie (found by the chaos run:
 * a replayed delete marker tied with the newer version latest at the site, was taken for newer and hid it). Then the
 * source's version listing, which lists a key's versions and delete markers newest first, decides.
 */
final class SourceHistory {

    private final S3Client source;

    SourceHistory(S3Client source) {
        this.source = source;
    }

    /**
     * Whether the version the site holds ({@code atSite}, written at the source at {@code atSiteModified}) is newer than
     * the entry's version ({@code entryVersion}, at {@code entryModified}). False when it cannot be told (a time
     * missing or unreadable, or a tie neither version of which the source still lists).
     */
    boolean isNewer(String bucket, String key, String atSite, String atSiteModified, String entryVersion, String entryModified) {
        Instant siteTime = Timestamps.parseOrNull(atSiteModified);
        Instant entryTime = Timestamps.parseOrNull(entryModified);
        if (siteTime == null || entryTime == null || atSite == null || atSite.equals(entryVersion)) {
            return false; // the same version is not newer than itself (a forced copy over its own replica)
        }
        int byTime = siteTime.compareTo(entryTime);
        if (byTime != 0) {
            return byTime > 0;
        }
        return atSite.equals(listedFirst(bucket, key, atSite, entryVersion).orElse(entryVersion));
    }

    /**
     * Of two version ids of the key, the one the source lists first (the newer); empty when neither is among the key's
     * newest {@value KeyEntries#MAX_ENTRIES_READ} entries.
     */
    private Optional<String> listedFirst(String bucket, String key, String a, String b) {
        AtomicReference<String> first = new AtomicReference<>();
        newestFirst(bucket, key, listed -> {
            if (listed.versionId().equals(a) || listed.versionId().equals(b)) {
                first.set(listed.versionId());
                return false;
            }
            return true;
        });
        return Optional.ofNullable(first.get());
    }

    /**
     * The delete markers the source lists above {@code version} for the key (newer than it), newest first; all of the
     * key's newest {@value KeyEntries#MAX_ENTRIES_READ} entries that are markers when the version is not among them.
     */
    List<String> deleteMarkersNewerThan(String bucket, String key, String version) {
        List<String> markers = new ArrayList<>();
        newestFirst(bucket, key, listed -> {
            if (listed.versionId().equals(version)) {
                return false;
            }
            if (listed.deleteMarker()) {
                markers.add(listed.versionId());
            }
            return true;
        });
        return markers;
    }

    /**
     * How many delete markers the source has from {@code marker} down to the version {@code since} (excluded; null: to
     * the key's oldest entry read): the markers a site must have on top of its replica of {@code since} once
     * {@code marker} is replicated there. Versions between them (not replicated there, or superseded) are not counted.
     * -1 when the source no longer lists {@code marker} among the key's newest entries.
     */
    int markersUpTo(String bucket, String key, String since, String marker) {
        int[] count = {0};
        boolean[] seen = {false};
        KeyEntries.newestFirst(source, bucket, key, listed -> {
            if (listed.versionId().equals(marker)) {
                seen[0] = true;
            }
            if (seen[0] && listed.versionId().equals(since)) {
                return false;
            }
            if (seen[0] && listed.deleteMarker()) {
                count[0]++;
            }
            return true;
        });
        return seen[0] ? count[0] : -1;
    }

    private void newestFirst(String bucket, String key, Predicate<KeyEntries.Listed> visitor) {
        KeyEntries.newestFirst(source, bucket, key, visitor);
    }
}
