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
 * The order of a key's versions at the source: its own version listing, which lists a key's versions and delete markers
 * newest first (Amazon S3 API Reference, ListObjectVersions), never their Last-Modified times alone. On S3 a multipart
 * object's Last-Modified is when its upload was initiated (S3 User Guide, "Working with object metadata"), so a multipart
 * version completed after a later plain PUT looks older than it (issue 28: it was SKIPPED "superseded" and the site kept
 * the older version); and times are whole seconds, so a put and a delete in the same second tie (found by the chaos run).
 */
final class SourceHistory {

    private final S3Client source;

    SourceHistory(S3Client source) {
        this.source = source;
    }

    /**
     * Whether the version the site holds ({@code atSite}) is newer than the entry's ({@code entryVersion}) at the source:
     * the one the source lists first. Only when it lists neither among the key's newest entries (a history longer than
     * that, or versions deleted at the source since) do the versions' source last-modified times decide, for want of
     * anything better; false when those cannot tell either. One listing of the key, usually a single request: the entry's
     * version is normally the key's newest.
     */
    boolean isNewer(String bucket, String key, String atSite, String atSiteModified, String entryVersion, String entryModified) {
        if (atSite == null || atSite.equals(entryVersion)) {
            return false; // the same version is not newer than itself (a forced copy over its own replica)
        }
        Optional<String> first = listedFirst(bucket, key, atSite, entryVersion);
        if (first.isPresent()) {
            return atSite.equals(first.get());
        }
        Instant siteTime = Timestamps.parseOrNull(atSiteModified);
        Instant entryTime = Timestamps.parseOrNull(entryModified);
        return siteTime != null && entryTime != null && siteTime.isAfter(entryTime);
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
     * The key's newest entries at the source, newest first, down to {@code through} (included; null, or not listed: at
     * most {@value KeyEntries#MAX_ENTRIES_READ}). A request per entry: a walk stops where it has what it needs.
     */
    List<KeyEntries.Listed> entries(String bucket, String key, String through) {
        List<KeyEntries.Listed> entries = new ArrayList<>();
        newestFirst(bucket, key, listed -> {
            entries.add(listed);
            return !listed.versionId().equals(through);
        });
        return entries;
    }

    /**
     * The delete markers {@code history} (newest first) lists above {@code version}, newest first; all its markers when it
     * does not list the version.
     */
    static List<String> markersNewerThan(List<KeyEntries.Listed> history, String version) {
        List<String> markers = new ArrayList<>();
        for (KeyEntries.Listed listed : history) {
            if (listed.versionId().equals(version)) {
                break;
            }
            if (listed.deleteMarker()) {
                markers.add(listed.versionId());
            }
        }
        return markers;
    }

    /**
     * How many delete markers {@code history} (newest first) has from {@code marker} down to the version {@code since}
     * (excluded; null: to its oldest entry): the markers a site must have above its replica of {@code since} once
     * {@code marker} is replicated there. Versions between them (not replicated there, or superseded) are not counted.
     * -1 when the history does not list {@code marker}.
     */
    static int markersBetween(List<KeyEntries.Listed> history, String since, String marker) {
        int count = 0;
        boolean seen = false;
        for (KeyEntries.Listed listed : history) {
            if (listed.versionId().equals(marker)) {
                seen = true;
            }
            if (seen && listed.versionId().equals(since)) {
                break;
            }
            if (seen && listed.deleteMarker()) {
                count++;
            }
        }
        return seen ? count : -1;
    }

    private void newestFirst(String bucket, String key, Predicate<KeyEntries.Listed> visitor) {
        KeyEntries.newestFirst(source, bucket, key, visitor);
    }
}
