package io.backbeatserverless.core.backfill;

import io.backbeatserverless.core.entry.MessageKeys;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.metadata.PendingVersions;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One page of a backfill job (issue 29): up to a thousand versions of one bucket, whole keys in key order, listed from
 * the source in one request, published as <em>one</em> entry on the replication topic instead of one per version. Each
 * site's replicator lists the site over the page's key range ({@code afterKey} exclusive, {@code throughKey} inclusive)
 * once, diffs, and copies what is missing; it answers with one {@link PageOutcome}.
 *
 * @param number     the page's place in its job (1, 2, ...): the job's pages are disjoint key ranges
 * @param part       0 for the page as listed; a part put back at a replicator's deadline (its remaining versions, for its
 *                   site alone) is the next number, so outcomes of parts are told apart
 * @param prefix     the job's prefix (null: the whole bucket): what the site is listed under
 * @param sites      the sites the page goes to (a part put back: its one site)
 * @param rules      the bucket's replication configuration when listed (JSON): each version names its rule by index
 * @param versions   each key's versions oldest first, keys in order
 */
public record BackfillPage(String jobId, long number, int part, String bucket, String prefix, String afterKey, String throughKey,
                           List<String> sites, String rules, List<PageVersion> versions, String listedAt) {

    /**
     * A version as the source listed it, and the rule that selected it ({@code rule}: its index in the page's rules).
     * {@code tags}: read only when a rule filters on them (empty otherwise).
     */
    public record PageVersion(String key, String versionId, long size, String eTag, String lastModified, boolean deleteMarker,
                              int rule, Map<String, String> tags) implements io.backbeatserverless.core.versions.ListedEntry {
        public PageVersion {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(versionId, "versionId");
            tags = tags == null ? Map.of() : Map.copyOf(tags);
        }

        /** The version's metadata as the per-version path would have queued it: PENDING at its rule's sites. */
        public ObjectMetadata metadata(ReplicationConfiguration configuration) {
            return PendingVersions.metadataOf(key, versionId, size, eTag, lastModified == null ? null : Instant.parse(lastModified),
                    deleteMarker, configuration, configuration.rules().get(rule), tags);
        }

        /** How a page item and a page outcome name the version. */
        public String ref() {
            return ref(key, versionId);
        }

        public static String ref(String key, String versionId) {
            return key + "\u0000" + versionId;
        }
    }

    public BackfillPage {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(bucket, "bucket");
        sites = List.copyOf(sites);
        versions = List.copyOf(versions);
    }

    public ReplicationConfiguration configuration() {
        return ReplicationConfigurationParser.parse(rules);
    }

    /**
     * The Kafka message key of the page, its parts and their outcomes: the same for all of them. The page itself and its
     * parts are published on the partition of its keys' live entries, named explicitly (BackfillLister publishes one page
     * per partition of a page listed), not where this key hashes; its outcomes, on the status topic, go by this key.
     */
    public String messageKey() {
        return messageKey(bucket, jobId, number);
    }

    public static String messageKey(String bucket, String jobId, long number) {
        return MessageKeys.forObject(bucket, "#backfill/" + jobId + "/" + number);
    }

    /** What names this part of this page in the outcomes already counted. */
    public String token() {
        return number + "." + part;
    }

    /** The rest of this page for {@code site} alone, put back at the replicator's deadline. */
    public BackfillPage remainderFor(String site, List<PageVersion> rest) {
        return new BackfillPage(jobId, number, part + 1, bucket, prefix, afterKey, throughKey, List.of(site), rules, rest, listedAt);
    }

    /** The versions whose rule sends them to {@code site}. */
    public List<PageVersion> versionsFor(String site, ReplicationConfiguration configuration) {
        return versions.stream().filter(v -> configuration.rules().get(v.rule()).sites().contains(site)).toList();
    }
}
