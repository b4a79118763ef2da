package io.backbeatserverless.core.versions;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Every version and delete marker of one key, oldest first: the order in which they happened at the
 * store, and so the order a site must receive them in.
 */
public record KeyVersions(String key, List<ListedVersion> versions) {

    public KeyVersions {
        versions = List.copyOf(versions);
    }

    /**
     * A key's history from a listing, which gives versions and delete markers as two lists, each newest first
     * (the interleaving is lost in the SDK's model). Each list keeps the store's own order; the two are merged by
     * time, a version before a delete marker of the same instant, and the entry the store calls latest goes last
     * whatever its time says (stores with second-resolution times put several entries in one second).
     */
    public static KeyVersions fromListing(String key, List<ListedVersion> versionsNewestFirst, List<ListedVersion> deleteMarkersNewestFirst) {
        List<ListedVersion> versions = new ArrayList<>(versionsNewestFirst).reversed();
        List<ListedVersion> markers = new ArrayList<>(deleteMarkersNewestFirst).reversed();
        List<ListedVersion> merged = new ArrayList<>(versions.size() + markers.size());
        int v = 0;
        int d = 0;
        while (v < versions.size() || d < markers.size()) {
            boolean takeVersion = d >= markers.size()
                    || (v < versions.size() && !versions.get(v).lastModified().isAfter(markers.get(d).lastModified()));
            merged.add(takeVersion ? versions.get(v++) : markers.get(d++));
        }
        ListedVersion latest = merged.stream().filter(ListedVersion::latest).findFirst().orElse(null);
        if (latest != null && merged.getLast() != latest) {
            merged.remove(latest);
            merged.add(latest);
        }
        return new KeyVersions(key, merged);
    }

    /** The newest entry, or null for a key with none. */
    public ListedVersion newest() {
        return versions.isEmpty() ? null : versions.getLast();
    }

    /**
     * S3's key order: by the keys' UTF-8 bytes (Java's {@link String#compareTo} differs for characters outside
     * the Basic Multilingual Plane).
     */
    public static final Comparator<String> KEY_ORDER = (a, b) -> java.util.Arrays.compareUnsigned(
            a.getBytes(java.nio.charset.StandardCharsets.UTF_8), b.getBytes(java.nio.charset.StandardCharsets.UTF_8));
}
