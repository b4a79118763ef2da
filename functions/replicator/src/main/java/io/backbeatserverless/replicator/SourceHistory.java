package io.backbeatserverless.replicator;

import io.backbeatserverless.core.metadata.Timestamps;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Which of two versions of a key is newer at the source. Their source last-modified times decide, except when they are
 * equal: S3 keeps whole seconds, so a put and a delete of the same key in the same second tie (found by the chaos run:
 * a replayed delete marker tied with the newer version latest at the site, was taken for newer and hid it). Then the
 * source's version listing, which lists a key's versions and delete markers newest first, decides.
 */
final class SourceHistory {

    /** How far down a key's history a tie is looked for before giving up (ties are between neighbours in practice). */
    static final int MAX_ENTRIES_READ = 100;

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
     * newest {@value #MAX_ENTRIES_READ} entries.
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
     * key's newest {@value #MAX_ENTRIES_READ} entries that are markers when the version is not among them.
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

    private record Listed(String versionId, boolean deleteMarker) {
    }

    /**
     * Hands the key's versions and delete markers to {@code visitor}, newest first, while it answers true, at most
     * {@value #MAX_ENTRIES_READ}. One entry per page: the SDK splits a page into versions and delete markers, which
     * would lose the order between a version and a marker.
     */
    private void newestFirst(String bucket, String key, Predicate<Listed> visitor) {
        String keyMarker = null;
        String versionMarker = null;
        for (int read = 0; read < MAX_ENTRIES_READ; read++) {
            String fromKey = keyMarker;
            String fromVersion = versionMarker;
            ListObjectVersionsResponse page = source.listObjectVersions(r -> r.bucket(bucket).prefix(key).maxKeys(1)
                    .keyMarker(fromKey).versionIdMarker(fromVersion));
            Optional<Listed> listed = Stream.concat(
                            page.versions().stream().filter(v -> v.key().equals(key)).map(v -> new Listed(v.versionId(), false)),
                            page.deleteMarkers().stream().filter(d -> d.key().equals(key)).map(d -> new Listed(d.versionId(), true)))
                    .findFirst();
            // Past the key's history when a longer key with the same prefix comes next.
            if (listed.isEmpty() || !visitor.test(listed.get()) || !Boolean.TRUE.equals(page.isTruncated())) {
                return;
            }
            keyMarker = page.nextKeyMarker();
            versionMarker = page.nextVersionIdMarker();
        }
    }
}
