package io.backbeatserverless.replicator;

import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
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
        Instant siteTime = instant(atSiteModified);
        Instant entryTime = instant(entryModified);
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
     * newest {@value #MAX_ENTRIES_READ} entries. One entry per page: the SDK splits a page into versions and delete
     * markers, which would lose the order between a version and a marker.
     */
    private Optional<String> listedFirst(String bucket, String key, String a, String b) {
        String keyMarker = null;
        String versionMarker = null;
        for (int read = 0; read < MAX_ENTRIES_READ; read++) {
            String fromKey = keyMarker;
            String fromVersion = versionMarker;
            ListObjectVersionsResponse page = source.listObjectVersions(r -> r.bucket(bucket).prefix(key).maxKeys(1)
                    .keyMarker(fromKey).versionIdMarker(fromVersion));
            Optional<String[]> listed = Stream.concat(
                            page.versions().stream().map(v -> new String[] {v.key(), v.versionId()}),
                            page.deleteMarkers().stream().map(d -> new String[] {d.key(), d.versionId()}))
                    .findFirst();
            if (listed.isEmpty() || !listed.get()[0].equals(key)) {
                return Optional.empty(); // past the key's history (a longer key with the same prefix comes next)
            }
            String version = listed.get()[1];
            if (version.equals(a) || version.equals(b)) {
                return Optional.of(version);
            }
            if (!Boolean.TRUE.equals(page.isTruncated())) {
                return Optional.empty();
            }
            keyMarker = page.nextKeyMarker();
            versionMarker = page.nextVersionIdMarker();
        }
        return Optional.empty();
    }

    private static Instant instant(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
