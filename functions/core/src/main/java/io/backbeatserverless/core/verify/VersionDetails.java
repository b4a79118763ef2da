package io.backbeatserverless.core.verify;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a HEAD and a tag read say of one object version, at the source or at a site: everything a replica
 * must carry besides its bytes.
 *
 * @param contentHeaders Content-Type and the like, keyed by lower-case HTTP name; empty values left out
 * @param userMetadata   user metadata (lower-case keys, without {@code x-amz-meta-}), the replica markers left out
 * @param replicaOf      for a replica: the source version id it carries; null for anything else
 * @param replica        whether the version says it is a replica (Backbeat's {@code REPLICA} marker)
 */
public record VersionDetails(long size, String eTag, Map<String, String> contentHeaders, Map<String, String> userMetadata,
                             Map<String, String> tags, String replicaOf, boolean replica) {

    public VersionDetails {
        contentHeaders = new TreeMap<>(contentHeaders);
        userMetadata = new TreeMap<>(userMetadata);
        tags = tags == null ? null : new TreeMap<>(tags);
    }

    /** The same details with the version's tags (read separately from the HEAD). */
    public VersionDetails withTags(Map<String, String> newTags) {
        return new VersionDetails(size, eTag, contentHeaders, userMetadata, newTags, replicaOf, replica);
    }
}
