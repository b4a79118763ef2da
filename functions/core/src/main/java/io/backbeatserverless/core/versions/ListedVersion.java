package io.backbeatserverless.core.versions;

import java.time.Instant;

/**
 * One entry of a version listing ({@code ListObjectVersions}): a version or a delete marker.
 *
 * @param latest whether the store says it is the key's current entry
 * @param size   bytes (0 for a delete marker)
 * @param eTag   unquoted; null for a delete marker
 */
public record ListedVersion(String key, String versionId, boolean deleteMarker, Instant lastModified, boolean latest,
                            long size, String eTag) implements ListedEntry {
}
