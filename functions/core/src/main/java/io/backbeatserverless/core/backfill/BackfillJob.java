package io.backbeatserverless.core.backfill;

import java.util.List;
import java.util.Map;

/**
 * A backfill job (issue 29): replicate the versions a bucket (under a prefix) already holds to its rules' sites (or some
 * of them), a page at a time. The populator lists it ({@code LISTING} until {@code listedAt}); each site's replicator
 * answers every page; the job is {@code DONE} when every site has answered every page.
 *
 * @param sites        the sites asked for (empty: every site of the bucket's rules)
 * @param cursor       the last key listed (null before the first page)
 * @param pagesListed  pages published
 * @param scanned      versions and delete markers listed
 * @param queued       of them, versions a rule selected for one of the job's sites (in the pages)
 * @param bySite       each site's answers so far
 * @param error        why the listing stopped, when it could not go on (no rules for the bucket, ...)
 */
public record BackfillJob(String id, String bucket, String prefix, List<String> sites, State state, String createdAt,
                          String cursor, long pagesListed, long scanned, long queued, String listedAt,
                          Map<String, SiteProgress> bySite, String error) {

    public enum State { LISTING, LISTED, DONE, FAILED }

    /** One site's answers: pages answered whole, and versions completed (bytes), failed and skipped there. */
    public record SiteProgress(long pagesDone, long completed, long completedBytes, long failed, long skipped) {
        public static final SiteProgress NONE = new SiteProgress(0, 0, 0, 0, 0);

        public SiteProgress plus(SiteProgress o) {
            return new SiteProgress(pagesDone + o.pagesDone, completed + o.completed, completedBytes + o.completedBytes,
                    failed + o.failed, skipped + o.skipped);
        }
    }

    public BackfillJob {
        sites = sites == null ? List.of() : List.copyOf(sites);
        bySite = bySite == null ? Map.of() : Map.copyOf(bySite);
    }

    /** Its state with the sites' answers counted: listed, and every site of the job answered every page. */
    public State effectiveState() {
        if (state != State.LISTED) {
            return state;
        }
        return sites.stream().allMatch(s -> bySite.getOrDefault(s, SiteProgress.NONE).pagesDone() >= pagesListed)
                ? State.DONE : State.LISTED;
    }

    public BackfillJob withSites(Map<String, SiteProgress> progress) {
        return new BackfillJob(id, bucket, prefix, sites, state, createdAt, cursor, pagesListed, scanned, queued, listedAt, progress, error);
    }
}
