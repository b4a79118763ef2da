package io.backbeatserverless.replicator;

import io.backbeatserverless.core.entry.ReplicationEntry;

import io.backbeatserverless.core.versions.ListedVersion;

import java.util.List;
import java.util.Map;

/**
 * A site that a backfill page (issue 29) can be diffed against by one listing and copied to without a look per version:
 * an {@code aws_s3} site. Sites without it take a page's versions one at a time. Version ids in and out are the entries'
 * (a CloudServer source's internal ids), as a page names its versions.
 */
interface PageSite {

    /**
     * Whether several source buckets may write the same key at the site ({@code SiteConfig#keysSharedBySourceBuckets}):
     * then a listing's sizes and ETags do not say whose replicas a key's entries are.
     */
    boolean keysSharedBySourceBuckets();

    /** The bucket at the site that {@code entry}'s replica goes to. */
    String destinationBucket(ReplicationEntry entry);

    /**
     * What the site has of each source key in the page's range (keys after {@code afterKey}, null: from the start of
     * {@code prefix}, through {@code throughKey}), by source key, each key's entries oldest first: one listing.
     */
    Map<String, List<ListedVersion>> siteHistories(String sourceBucket, String destinationBucket, String prefix, String afterKey,
                                                   String throughKey) throws Exception;

    /**
     * Copies versions of a key, oldest first, each write conditional on the one before (the first on the site's current
     * object having {@code currentETag}, or on the key having none when null; each next on the current object being the
     * replica just written): stops at the first that does not go (a condition failed because something was written
     * meanwhile, or an error), whose rest the caller takes one version at a time. Onto a key that had none, the key is
     * looked at once more first: a delete marker written there since the page's listing passes S3's "no object" condition.
     */
    InOrder copyInOrder(List<ReplicationEntry> versions, String currentETag);

    /**
     * Whose replica each of a key's site entries is: the source version id its replica marker names (one HEAD each), null
     * for a delete marker or an object that is no replica. For the keys a listing cannot decide ({@code PageDiff.Plan.ASK_THE_SITE}).
     */
    List<String> replicaOf(String destinationBucket, String sourceBucket, String sourceKey, List<ListedVersion> siteEntries) throws Exception;

    /**
     * The version id of the newest delete marker the source lists above {@code version} of the key (newer than it); empty
     * when it lists none there.
     */
    java.util.Optional<String> newestSourceMarkerAbove(String sourceBucket, String sourceKey, String version) throws Exception;

    /** How many of a key's versions were copied in order, and their bytes. */
    record InOrder(int done, long bytes) {
    }
}
