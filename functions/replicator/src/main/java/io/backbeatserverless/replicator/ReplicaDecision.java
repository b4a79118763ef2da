package io.backbeatserverless.replicator;

import java.util.Optional;

/**
 * What to do with one version at an S3 site, from what the site shows of its key: the decision of
 * {@link S3SiteReplicator}, apart from its requests, so that it is read and tested alone. Pure: when the decision needs
 * something more (is the site's replica of a newer version? is an older replica there to re-tag? is a newer delete
 * marker replicated already?) it asks for it ({@link Ask}), and the replicator, which can look, answers and asks again;
 * it asks only what the case needs, as each answer costs requests.
 *
 * <ol>
 *   <li>The site's newest replica (its latest, or the newest beneath the delete markers on top) is of this version: it is
 *       there (a replay); a change of its tags alone re-tags it. A forced copy goes on.</li>
 *   <li>A change of an older version's tags alone re-tags that version's replica, if the site has one.</li>
 *   <li>The site's newest replica is of a newer source version: this one is superseded (an older version, or an older
 *       delete marker, must never hide a newer one), unless its replica is beneath the newer one, where it is there.</li>
 *   <li>A version or a delete marker that would go over delete markers on top is superseded when a newer marker of the source is
 *       replicated already (they stand for it).</li>
 *   <li>A delete marker is replicated as one (as many as the source has there: {@code S3SiteReplicator}).</li>
 *   <li>Else the version is copied: in parts from the multipart threshold on, else by the site's own service when it can
 *       read the source ({@code serverSideCopy}), else streamed through this function.</li>
 * </ol>
 */
public final class ReplicaDecision {

    private ReplicaDecision() {
    }

    /** What the decision may need to know beyond the first look. */
    public enum Question {
        /**
         * The site's version holding the replica of this source version, beneath newer ones (empty: none): for a change of
         * an older version's tags, the replica to re-tag; for a version superseded at the site, whether it is there all the
         * same (replicated before the newer one).
         */
        REPLICA_BENEATH,
        /** Whether the source version the site's newest replica is of is newer than this one (the source's order). */
        SITE_REPLICA_NEWER,
        /** The newest source delete marker above this version already replicated to the site, if any. */
        NEWER_MARKER_REPLICATED
    }

    public enum Action {
        ALREADY_THERE, RETAG_LATEST, RETAG_OLDER, SKIP_NEWER_VERSION, SKIP_NEWER_MARKER, REPLICATE_MARKER,
        COPY_IN_PARTS, COPY_SERVER_SIDE, COPY_STREAMED
    }

    public sealed interface Step permits Ask, Act {
    }

    public record Ask(Question question) implements Step {
    }

    public record Act(Action action) implements Step {
    }

    /**
     * @param version          the source version (the source API's spelling)
     * @param siteReplicaOf    the source version the site's newest replica is of; null when the site has none
     * @param markerOnTop      whether delete markers are on top of the key at the site
     * @param olderReplica     the answer to {@link Question#REPLICA_BENEATH}; null until asked
     * @param siteReplicaNewer the answer to {@link Question#SITE_REPLICA_NEWER}; null until asked
     * @param newerMarker      the answer to {@link Question#NEWER_MARKER_REPLICATED}; null until asked
     */
    public record Facts(String version, boolean deleteMarker, boolean metadataOnly, boolean forceCopy, long size, String siteReplicaOf,
                        boolean markerOnTop, Optional<String> olderReplica, Boolean siteReplicaNewer, Optional<String> newerMarker) {

        public Facts(String version, boolean deleteMarker, boolean metadataOnly, boolean forceCopy, long size, String siteReplicaOf,
                     boolean markerOnTop) {
            this(version, deleteMarker, metadataOnly, forceCopy, size, siteReplicaOf, markerOnTop, null, null, null);
        }

        public Facts withOlderReplica(Optional<String> answer) {
            return new Facts(version, deleteMarker, metadataOnly, forceCopy, size, siteReplicaOf, markerOnTop, answer, siteReplicaNewer, newerMarker);
        }

        public Facts withSiteReplicaNewer(boolean answer) {
            return new Facts(version, deleteMarker, metadataOnly, forceCopy, size, siteReplicaOf, markerOnTop, olderReplica, answer, newerMarker);
        }

        public Facts withNewerMarker(Optional<String> answer) {
            return new Facts(version, deleteMarker, metadataOnly, forceCopy, size, siteReplicaOf, markerOnTop, olderReplica, siteReplicaNewer, answer);
        }
    }

    /** The next step: a question to answer, or what to do. */
    public static Step next(Facts facts, long multipartThresholdBytes, boolean serverSideCopy) {
        if (facts.siteReplicaOf() != null) {
            if (facts.version().equals(facts.siteReplicaOf()) && !facts.forceCopy()) {
                return new Act(facts.metadataOnly() ? Action.RETAG_LATEST : Action.ALREADY_THERE);
            }
            if (facts.metadataOnly() && !facts.forceCopy()) {
                if (facts.olderReplica() == null) {
                    return new Ask(Question.REPLICA_BENEATH);
                }
                if (facts.olderReplica().isPresent()) {
                    return new Act(Action.RETAG_OLDER);
                }
            }
            if (facts.siteReplicaNewer() == null) {
                return new Ask(Question.SITE_REPLICA_NEWER);
            }
            if (facts.siteReplicaNewer()) {
                // Replicated before the newer one (a page of a second backfill job, or a replay, over a key the live path has
                // written since): it is there, COMPLETED. Before, such a version read SKIPPED "superseded" while its replica was
                // at the site (found by hand on CloudServer: a second job beside live writes). An S3 site's delete marker
                // names no source version, so a marker cannot be found this way: it stays superseded.
                if (!facts.deleteMarker() && !facts.forceCopy()) {
                    if (facts.olderReplica() == null) {
                        return new Ask(Question.REPLICA_BENEATH);
                    }
                    if (facts.olderReplica().isPresent()) {
                        return new Act(Action.ALREADY_THERE);
                    }
                }
                return new Act(Action.SKIP_NEWER_VERSION);
            }
        }
        // A version, or a delete marker, that would go over markers on top: a newer marker of the source already replicated
        // there means it comes too late (an S3 site cannot put it beneath). For a marker too (found by the chaos run of a
        // backfill beside live deletes: the page's older markers, counted as if the one on top were theirs, went above
        // the newer marker the live path had replicated first).
        if (facts.markerOnTop()) {
            if (facts.newerMarker() == null) {
                return new Ask(Question.NEWER_MARKER_REPLICATED);
            }
            if (facts.newerMarker().isPresent()) {
                return new Act(Action.SKIP_NEWER_MARKER);
            }
        }
        if (facts.deleteMarker()) {
            return new Act(Action.REPLICATE_MARKER);
        }
        if (facts.size() >= multipartThresholdBytes) {
            return new Act(Action.COPY_IN_PARTS);
        }
        return new Act(serverSideCopy ? Action.COPY_SERVER_SIDE : Action.COPY_STREAMED);
    }
}
