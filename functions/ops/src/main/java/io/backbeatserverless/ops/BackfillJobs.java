package io.backbeatserverless.ops;

import io.backbeatserverless.core.backfill.BackfillJob;
import io.backbeatserverless.core.backfill.BackfillJobStore;

import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Ours: the ops API's backfill jobs (issue 29). {@code POST /_/backfill/jobs} starts one
 * ({@code {"Bucket", "Prefix", "Sites"}}), {@code GET /_/backfill/jobs} lists the newest, {@code GET
 * /_/backfill/jobs/<id>} reports one: its listing, each site's pages answered and versions completed, failed and
 * skipped, as S3 Batch Replication's completion report counts them; the versions that did not complete are each site's
 * failed entries ({@code GET /_/crr/failed?site=}), with their reasons, retryable there.
 */
final class BackfillJobs {

    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final BackfillJobStore store;
    private final List<String> configuredSites;
    private final Clock clock;
    BackfillJobs(BackfillJobStore store, List<String> configuredSites, Clock clock) {
        this.store = store;
        this.configuredSites = List.copyOf(configuredSites);
        this.clock = clock;
    }

    Map<String, Object> start(String body) {
        BodyFields request = BodyFields.object(body, "{\"Bucket\": <name>, \"Prefix\"?: <prefix>, \"Sites\"?: [<site>, ...]}");
        String bucket = request.name("Bucket", true);
        List<String> sites = new ArrayList<>(request.names("Sites"));
        String named = request.name("Site", false);
        if (named != null) {
            sites.add(named);
        }
        for (String site : sites) {
            if (!configuredSites.contains(site)) {
                throw OpsException.badBody("Sites names an unknown site '" + site + "' (sites: " + String.join(", ", configuredSites) + ")");
            }
        }
        String prefix = request.key("Prefix", false);
        String id = ID_TIME.format(clock.instant()) + "-" + java.util.UUID.randomUUID().toString().substring(0, 8); // as VerifyRun.newId: SnapStart-safe
        BackfillJob job = new BackfillJob(id, bucket, prefix.isEmpty() ? null : prefix, sites, BackfillJob.State.LISTING,
                clock.instant().toString(), null, 0, 0, 0, null, Map.of(), null);
        store.create(job);
        return report(job);
    }

    Map<String, Object> list() {
        return Map.of("Jobs", store.list(50).stream().map(BackfillJobs::report).toList());
    }

    /** The backfill jobs a repairing verify run started (where a page held many missing versions for a site). */
    List<Map<String, Object>> repairJobsOf(String verifyRunId) {
        return store.withIdsStartingWith(verifyRunId + "-repair-").stream().map(BackfillJobs::report).toList();
    }

    Map<String, Object> get(String id) {
        return report(store.find(id).orElseThrow(() -> OpsException.notFound("no backfill job '" + id + "'")));
    }

    static Map<String, Object> report(BackfillJob job) {
        List<String> sites = job.sites();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("Id", job.id());
        body.put("Bucket", job.bucket());
        body.put("Prefix", job.prefix() == null ? "" : job.prefix());
        body.put("Sites", sites);
        body.put("State", job.effectiveState().name());
        body.put("CreatedAt", job.createdAt());
        body.put("ListedAt", job.listedAt());
        if (job.error() != null) {
            body.put("Error", job.error());
        }
        body.put("Listing", Map.of("Pages", job.pagesListed(), "Scanned", job.scanned(), "Queued", job.queued(),
                "Done", job.listedAt() != null));
        Map<String, Object> bySite = new LinkedHashMap<>();
        for (String site : sites) {
            BackfillJob.SiteProgress p = job.bySite().getOrDefault(site, BackfillJob.SiteProgress.NONE);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("PagesDone", p.pagesDone());
            s.put("Completed", p.completed());
            s.put("CompletedBytes", p.completedBytes());
            s.put("Failed", p.failed());
            s.put("Skipped", p.skipped());
            s.put("Progress", job.pagesListed() == 0 ? (job.listedAt() != null ? "100%" : "-")
                    : String.format(Locale.ROOT, "%d%%", Math.min(100, 100 * p.pagesDone() / job.pagesListed())));
            if (p.failed() > 0) {
                s.put("FailedVersions", "/_/crr/failed?site=" + site);
            }
            bySite.put(site, s);
        }
        body.put("BySite", bySite);
        return body;
    }
}
