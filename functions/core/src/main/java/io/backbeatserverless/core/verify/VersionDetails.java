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
 * @param protection     its Object Lock in force and its encryption, as a HEAD says them ({@link #LOCK_MODE} and the other
 *                       keys here, each left out when absent); null when not read (a listing carries none)
 */
public record VersionDetails(long size, String eTag, Map<String, String> contentHeaders, Map<String, String> userMetadata,
                             Map<String, String> tags, String replicaOf, boolean replica, Map<String, String> protection) {

    /** The retention mode in force (GOVERNANCE, COMPLIANCE). */
    public static final String LOCK_MODE = "retention mode";
    /** The retain-until date of the retention in force. */
    public static final String LOCK_UNTIL = "retain-until date";
    /** A legal hold, when ON. */
    public static final String LEGAL_HOLD = "legal hold";
    /** The server-side encryption (AES256, aws:kms, aws:kms:dsse). */
    public static final String ENCRYPTION = "encryption";
    /** The KMS key of an aws:kms version. */
    public static final String KMS_KEY = "KMS key";

    public VersionDetails {
        contentHeaders = new TreeMap<>(contentHeaders);
        userMetadata = new TreeMap<>(userMetadata);
        tags = tags == null ? null : new TreeMap<>(tags);
        protection = protection == null ? null : new TreeMap<>(protection);
    }

    public VersionDetails(long size, String eTag, Map<String, String> contentHeaders, Map<String, String> userMetadata,
                          Map<String, String> tags, String replicaOf, boolean replica) {
        this(size, eTag, contentHeaders, userMetadata, tags, replicaOf, replica, null);
    }

    /** The same details with the version's tags (read separately from the HEAD). */
    public VersionDetails withTags(Map<String, String> newTags) {
        return new VersionDetails(size, eTag, contentHeaders, userMetadata, newTags, replicaOf, replica, protection);
    }
}
