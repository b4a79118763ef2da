package io.backbeatserverless.core.status;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Backbeat's status rules, in one place; the status store applies {@link #replaceable} as its write
 * condition, so this is the rule that runs.
 * <ul>
 *   <li>A site's COMPLETED is final against what a replicator reports later (a replayed FAILED or SKIPPED
 *       cannot undo it); SKIPPED is final against a replayed FAILED.</li>
 *   <li>Except for a change of a version's metadata alone (a tag change, content {@code METADATA}): reported FAILED, it
 *       replaces a COMPLETED older than itself. The bytes are at the site, but not what the source now says of them, and
 *       the failure must be listed and retryable (issue 28: it was dropped). An older failure replayed after a newer
 *       COMPLETED changes nothing.</li>
 *   <li>An operator's re-queue (a retry, verify's repair) makes the site PENDING whatever it was: a skipped or
 *       even a completed version can be replicated again, and its next outcome then counts.</li>
 *   <li>An outcome may be reported again over itself (a replayed batch): it applies again, so whatever it
 *       causes (a failed entry, the write-back to the source) happens even if the first application stopped
 *       half-way.</li>
 *   <li>An object's overall status is FAILED if any site failed, PROCESSING while any site is still
 *       pending after one reported, PENDING before any reported, else COMPLETED; SKIPPED counts as done.</li>
 * </ul>
 */
public final class StatusMerge {

    private static final Set<ReplicationStatus> OPEN = EnumSet.of(ReplicationStatus.PENDING, ReplicationStatus.PROCESSING);

    private StatusMerge() {
    }

    /** The statuses a site may be at for {@code incoming} to replace them (a site with no status always takes it). */
    public static Set<ReplicationStatus> replaceable(ReplicationStatus incoming) {
        return switch (incoming) {
            case COMPLETED -> EnumSet.of(ReplicationStatus.PENDING, ReplicationStatus.PROCESSING, ReplicationStatus.FAILED,
                    ReplicationStatus.SKIPPED, ReplicationStatus.COMPLETED);
            case SKIPPED -> EnumSet.of(ReplicationStatus.PENDING, ReplicationStatus.PROCESSING, ReplicationStatus.FAILED,
                    ReplicationStatus.SKIPPED);
            case FAILED, PROCESSING -> EnumSet.copyOf(union(OPEN, ReplicationStatus.FAILED));
            case PENDING -> EnumSet.allOf(ReplicationStatus.class);
            case REPLICA -> EnumSet.noneOf(ReplicationStatus.class);
        };
    }

    /**
     * The statuses {@code incoming} replaces besides {@link #replaceable}, provided the status there is older than it:
     * COMPLETED, for a FAILED change of metadata alone; none otherwise.
     */
    public static Set<ReplicationStatus> replaceableIfOlder(ReplicationStatus incoming, boolean metadataOnly) {
        return incoming == ReplicationStatus.FAILED && metadataOnly ? EnumSet.of(ReplicationStatus.COMPLETED)
                : EnumSet.noneOf(ReplicationStatus.class);
    }

    /**
     * The status a site moves to when {@code incoming}, reported at {@code incomingAt}, meets {@code current} (null:
     * unknown) recorded at {@code currentAt} (null: unknown, taken as older).
     */
    public static ReplicationStatus nextSiteStatus(ReplicationStatus current, java.time.Instant currentAt, ReplicationStatus incoming,
                                                   java.time.Instant incomingAt, boolean metadataOnly) {
        if (current != null && replaceableIfOlder(incoming, metadataOnly).contains(current)
                && (currentAt == null || currentAt.isBefore(incomingAt))) {
            return incoming;
        }
        return nextSiteStatus(current, incoming);
    }

    /** The status a site moves to when {@code incoming} is reported while it is at {@code current} (null: unknown). */
    public static ReplicationStatus nextSiteStatus(ReplicationStatus current, ReplicationStatus incoming) {
        return current == null || replaceable(incoming).contains(current) ? incoming : current;
    }

    /** True when reporting {@code incoming} changes a site now at {@code current}. */
    public static boolean changesSite(ReplicationStatus current, ReplicationStatus incoming) {
        return nextSiteStatus(current, incoming) != current;
    }

    private static Set<ReplicationStatus> union(Set<ReplicationStatus> a, ReplicationStatus b) {
        Set<ReplicationStatus> all = EnumSet.copyOf(a);
        all.add(b);
        return all;
    }

    /**
     * Overall status of an object from its per-site statuses. Before any site reported (all
     * PENDING) the object is PENDING, as CloudServer shows a freshly written version.
     */
    public static ReplicationStatus overall(Map<String, ReplicationStatus> bySite) {
        if (bySite.isEmpty()) {
            return ReplicationStatus.PENDING;
        }
        boolean anyPending = false;
        boolean anyReported = false;
        for (ReplicationStatus s : bySite.values()) {
            switch (s) {
                case FAILED -> {
                    return ReplicationStatus.FAILED;
                }
                case PENDING -> anyPending = true;
                case PROCESSING -> {
                    anyPending = true;
                    anyReported = true;
                }
                default -> anyReported = true;
            }
        }
        if (!anyPending) {
            return ReplicationStatus.COMPLETED;
        }
        return anyReported ? ReplicationStatus.PROCESSING : ReplicationStatus.PENDING;
    }
}
