package io.backbeatserverless.core.verify;

/**
 * One version verify has something to say about, at one site.
 *
 * @param versionId     the source version (for {@code EXTRA}: the version id at the site)
 * @param deleteMarker  whether it is a delete marker
 * @param detail        what is wrong, in words an operator can act on
 */
public record Finding(Kind kind, String site, String bucket, String key, String versionId, boolean deleteMarker, String detail) {

    public enum Kind {
        /** Should be at the site and is not, and nothing says why. */
        MISSING,
        /** At the site but not identical (the detail says what differs), or the site's current version is not the source's. */
        DIVERGENT,
        /**
         * At the site and identical, but in another place of the key's history than at the source: above an entry the
         * source wrote after it (issue 28: the newest on top is not enough; a site's history is read too, by version).
         */
        OUT_OF_ORDER,
        /** Queued (PENDING) longer than the threshold without an outcome. */
        STUCK,
        /** Replication failed; the reason is the one recorded. */
        FAILED,
        /** Not replicated on purpose; the reason is the one recorded. */
        SKIPPED,
        /** At the site but the replica of no source version (or a delete marker with none at the source in its place). */
        EXTRA
    }
}
