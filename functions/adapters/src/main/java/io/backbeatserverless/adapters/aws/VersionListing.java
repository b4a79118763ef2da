package io.backbeatserverless.adapters.aws;

import io.backbeatserverless.core.versions.KeyVersions;
import io.backbeatserverless.core.versions.ListedVersion;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteMarkerEntry;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ObjectVersion;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A bucket's versions a key at a time, through {@code ListObjectVersions}: the one place that turns the
 * listing's pages into whole keys, each with its history oldest first ({@link KeyVersions#fromListing}).
 * Used by the listing feed and by verify.
 * <ul>
 *   <li>A page holds whole keys only: the key a truncated page ends in may go on in the next one, so it is
 *       left for the next page, whose cursor is the last whole key.</li>
 *   <li>A key with more versions than a page is read to its end before it is returned.</li>
 *   <li>The cursor is a key: the next page starts after it. Servers that treat a key marker without a
 *       version marker as inclusive (local-s3) are tolerated: that key's entries are dropped.</li>
 * </ul>
 */
public final class VersionListing {

    private final S3Client s3;
    private final Runnable beforeEachRequest;

    /** @param beforeEachRequest called before each request (a rate limiter's permit) */
    public VersionListing(S3Client s3, Runnable beforeEachRequest) {
        this.s3 = s3;
        this.beforeEachRequest = beforeEachRequest;
    }

    public VersionListing(S3Client s3) {
        this(s3, () -> {
        });
    }

    /**
     * @param keys    whole keys, in key order
     * @param lastKey the cursor to pass for the next page (the last whole key; {@code afterKey} again when none)
     * @param done    no key after these
     * @param listed  entries read (versions and delete markers), including those left for the next page
     */
    public record Page(List<KeyVersions> keys, String lastKey, boolean done, long listed) {
    }

    /** Whole keys under {@code prefix} after {@code afterKey} (null: from the start), about {@code limit} entries. */
    public Page page(String bucket, String prefix, String afterKey, int limit) {
        Map<String, Entries> byKey = new TreeMap<>(KeyVersions.KEY_ORDER);
        String keyMarker = afterKey;
        String versionMarker = null;
        long listed = 0;
        while (true) {
            String km = keyMarker;
            String vm = versionMarker;
            beforeEachRequest.run();
            ListObjectVersionsResponse response = s3.listObjectVersions(r -> r.bucket(bucket).prefix(emptyToNull(prefix))
                    .keyMarker(km).versionIdMarker(vm).maxKeys(limit));
            // afterKey is behind the cursor: a server that lists it again (an inclusive key marker) is not believed.
            for (ObjectVersion v : response.versions()) {
                if (!v.key().equals(afterKey)) {
                    byKey.computeIfAbsent(v.key(), k -> new Entries()).versions.add(listed(v));
                }
            }
            for (DeleteMarkerEntry d : response.deleteMarkers()) {
                if (!d.key().equals(afterKey)) {
                    byKey.computeIfAbsent(d.key(), k -> new Entries()).markers.add(listed(d));
                }
            }
            listed += response.versions().size() + response.deleteMarkers().size();
            if (!Boolean.TRUE.equals(response.isTruncated())) {
                return page(byKey, afterKey, true, listed);
            }
            String splitKey = response.nextKeyMarker();
            if (byKey.keySet().stream().anyMatch(k -> !k.equals(splitKey))) {
                // The page may end inside its last key: that key comes whole with the next page.
                byKey.remove(splitKey);
                return page(byKey, afterKey, false, listed);
            }
            // One key fills the page: read on to its end, keeping its versions in order.
            keyMarker = splitKey;
            versionMarker = response.nextVersionIdMarker();
            if (versionMarker == null) {
                throw new IllegalStateException("listing of " + bucket + " is truncated inside key '" + splitKey
                        + "' without a version marker");
            }
        }
    }

    /** Every whole key under {@code prefix} after {@code afterKey} up to {@code throughKey} included (null: to the end). */
    public List<KeyVersions> range(String bucket, String prefix, String afterKey, String throughKey, int limit) {
        List<KeyVersions> keys = new ArrayList<>();
        String cursor = afterKey;
        while (true) {
            Page page = page(bucket, prefix, cursor, limit);
            for (KeyVersions key : page.keys()) {
                if (throughKey != null && KeyVersions.KEY_ORDER.compare(key.key(), throughKey) > 0) {
                    return keys;
                }
                keys.add(key);
            }
            // A page that ends at the range's last key ends the range: listing on would read a page past it (the
            // same keys at a site as at the source end both sides' pages at the same key: one request, not two).
            if (page.done() || throughKey != null && KeyVersions.KEY_ORDER.compare(page.lastKey(), throughKey) >= 0) {
                return keys;
            }
            cursor = page.lastKey();
        }
    }

    private static Page page(Map<String, Entries> byKey, String afterKey, boolean done, long listed) {
        List<KeyVersions> keys = new ArrayList<>(byKey.size());
        byKey.forEach((key, entries) -> keys.add(KeyVersions.fromListing(key, entries.versions, entries.markers)));
        return new Page(keys, keys.isEmpty() ? afterKey : keys.getLast().key(), done, listed);
    }

    private static ListedVersion listed(ObjectVersion v) {
        return new ListedVersion(v.key(), v.versionId(), false, v.lastModified(), Boolean.TRUE.equals(v.isLatest()),
                v.size() == null ? 0 : v.size(), v.eTag() == null ? null : v.eTag().replace("\"", ""));
    }

    private static ListedVersion listed(DeleteMarkerEntry d) {
        return new ListedVersion(d.key(), d.versionId(), true, d.lastModified(), Boolean.TRUE.equals(d.isLatest()), 0, null);
    }

    private static String emptyToNull(String prefix) {
        return prefix == null || prefix.isEmpty() ? null : prefix;
    }

    /** One key's entries as listed: each list newest first. */
    private static final class Entries {
        final List<ListedVersion> versions = new ArrayList<>();
        final List<ListedVersion> markers = new ArrayList<>();
    }
}
