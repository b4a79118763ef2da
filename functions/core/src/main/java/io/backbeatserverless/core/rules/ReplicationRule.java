package io.backbeatserverless.core.rules;

import java.util.List;
import java.util.Map;

/**
 * One rule of an AWS {@code ReplicationConfiguration}. As in Backbeat, the destination's
 * StorageClass names the destination site(s), comma-separated.
 *
 * @param priority                 higher wins when rules overlap; 0 when absent
 * @param prefix                   key prefix the rule selects ("" for all)
 * @param tags                     tags an object must carry (all of them) to be selected
 * @param deleteMarkerReplication  whether delete markers are replicated
 * @param destinationBucket        bucket ARN or name from Destination.Bucket
 * @param sites                    destination sites from Destination.StorageClass
 */
public record ReplicationRule(String id, boolean enabled, int priority, String prefix, Map<String, String> tags,
                              boolean deleteMarkerReplication, String destinationBucket, List<String> sites) {

    public ReplicationRule {
        prefix = prefix == null ? "" : prefix;
        tags = Map.copyOf(tags);
        sites = List.copyOf(sites);
    }

    /** Whether matching needs the object's tags (which a listing does not return). */
    public boolean filtersOnTags() {
        return !tags.isEmpty();
    }

    public boolean matches(String objectKey, Map<String, String> objectTags) {
        if (!enabled || !objectKey.startsWith(prefix)) {
            return false;
        }
        for (Map.Entry<String, String> tag : tags.entrySet()) {
            if (!tag.getValue().equals(objectTags.get(tag.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Destination bucket name, from an ARN ({@code arn:aws:s3:::name}) or a plain name. */
    public String destinationBucketName() {
        return bucketName(destinationBucket);
    }

    /** A bucket's name from its ARN ({@code arn:aws:s3:::name}) or its plain name; null stays null. */
    public static String bucketName(String arnOrName) {
        if (arnOrName == null || arnOrName.isBlank()) {
            return null;
        }
        int at = arnOrName.lastIndexOf(':');
        return at >= 0 ? arnOrName.substring(at + 1) : arnOrName;
    }
}
