package io.backbeatserverless.core.backfill;

import java.util.List;
import java.util.Objects;

/**
 * What one site's replicator did with one part of a backfill page, on the status topic (one record for up to a thousand
 * versions). Versions that did not complete also have a per-version outcome of their own (FAILED or SKIPPED, with the
 * reason), published before this one: they are the failed list's, the retry's and verify's like any other.
 *
 * @param throughKey     the page's last key (where its item is kept)
 * @param completed      versions now at the site (copied, or found there already)
 * @param completedBytes bytes written to the site for them
 * @param notCompleted   the versions ({@link BackfillPage.PageVersion#ref}) FAILED or SKIPPED at the site
 * @param remaining      the versions put back (the next part) at the deadline; empty when this part ends the page here
 */
public record PageOutcome(String jobId, long number, int part, String bucket, String throughKey, String site, long completed, long completedBytes,
                          long failed, long skipped, List<String> notCompleted, List<String> remaining, String timestamp) {

    public PageOutcome {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(site, "site");
        notCompleted = List.copyOf(notCompleted);
        remaining = List.copyOf(remaining);
    }

    /** This part ends the page at its site (nothing was put back). */
    public boolean last() {
        return remaining.isEmpty();
    }

    public String token() {
        return number + "." + part;
    }

    public String messageKey() {
        return BackfillPage.messageKey(bucket, jobId, number);
    }
}
