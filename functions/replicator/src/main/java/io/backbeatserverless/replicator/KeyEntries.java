package io.backbeatserverless.replicator;

import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;

import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A key's versions and delete markers in a bucket, newest first, as ListObjectVersions lists them (its order is the
 * bucket's own version order: Amazon S3 API Reference, ListObjectVersions). One entry a page: the SDK splits a page into
 * versions and delete markers, which would lose the order between a version and a marker. Needs s3:ListBucketVersions.
 */
final class KeyEntries {

    /** How far down a key's history a walk goes at most (what is looked for is near the top in practice). */
    static final int MAX_ENTRIES_READ = 100;

    /** One entry of a key's history. */
    record Listed(String versionId, boolean deleteMarker) {
    }

    private KeyEntries() {
    }

    /** Hands the key's entries to {@code visitor}, newest first, while it answers true, at most {@value #MAX_ENTRIES_READ}. */
    static void newestFirst(S3Client s3, String bucket, String key, Predicate<Listed> visitor) {
        String keyMarker = null;
        String versionMarker = null;
        for (int read = 0; read < MAX_ENTRIES_READ; read++) {
            String fromKey = keyMarker;
            String fromVersion = versionMarker;
            ListObjectVersionsResponse page = s3.listObjectVersions(r -> r.bucket(bucket).prefix(key).maxKeys(1)
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
