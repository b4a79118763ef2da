package io.backbeatserverless.ops;

import io.backbeatserverless.core.verify.Finding;
import io.backbeatserverless.core.verify.SiteCounts;
import io.backbeatserverless.core.verify.VerifyRequest;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.core.verify.VerifyRunStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Verify's request and answers on the ops API, in the API's style (capitalized fields, as Backbeat's routes). */
final class VerifyReports {


    private VerifyReports() {
    }

    /** {@code {"Bucket"?, "Site"? | "Sites"?, "Prefix"?, "Repair"?, "StuckAfterSeconds"?}}; every field is optional. */
    static VerifyRequest request(String body) {
        BodyFields fields = BodyFields.object(body, "{Bucket?, Site? | Sites?, Prefix?, Repair?, StuckAfterSeconds?, Deep?, SampleFraction?}");
        List<String> sites = new ArrayList<>();
        String site = fields.name("Site", false);
        if (site != null) {
            sites.add(site);
        }
        sites.addAll(fields.names("Sites"));
        Long stuckAfterSeconds = fields.wholeNumber("StuckAfterSeconds", 0, Duration.ofDays(365).toSeconds());
        Double sample = fields.number("SampleFraction", 0, false, 1);
        return new VerifyRequest(fields.name("Bucket", false), sites, fields.key("Prefix", false), fields.bool("Repair", false),
                stuckAfterSeconds == null ? null : Duration.ofSeconds(stuckAfterSeconds), fields.bool("Deep", false),
                sample == null ? VerifyRequest.DEFAULT_SAMPLE : sample);
    }

    static Map<String, Object> run(VerifyRun run) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("Id", run.id());
        body.put("Phase", run.phase().name());
        body.put("Clean", run.clean());
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("Bucket", run.request().bucket());
        request.put("Sites", run.request().sites());
        request.put("Prefix", run.request().prefix());
        request.put("Repair", run.request().repair());
        request.put("StuckAfterSeconds", run.request().stuckAfter().toSeconds());
        request.put("Deep", run.request().deep());
        request.put("SampleFraction", run.request().sample());
        body.put("Request", request);
        body.put("CreatedAt", run.createdAt().toString());
        body.put("UpdatedAt", run.updatedAt().toString());
        body.put("FinishedAt", run.finishedAt() == null ? null : run.finishedAt().toString());
        Map<String, Object> progress = new LinkedHashMap<>();
        progress.put("Buckets", run.buckets().size());
        progress.put("Bucket", run.phase() == VerifyRun.Phase.VERIFYING ? run.bucket() : null);
        progress.put("Scanned", run.scanned());
        progress.put("Total", Math.max(0, run.totalVersions()));
        progress.put("Percent", run.phase() == VerifyRun.Phase.DONE ? 100
                : run.phase() == VerifyRun.Phase.VERIFYING && run.totalVersions() > 0
                ? Math.min(99, (int) (100 * run.scanned() / run.totalVersions())) : 0);
        if (run.inventory() != null) {
            // A bucket checked by its inventory reports (issue 29): their data files split into shards, then the shards compared.
            progress.put("Inventory", Map.of("Reports", run.inventory().reports().size(), "Files", run.inventory().files(),
                    "FilesSplit", run.inventory().filesDone(), "Shards", run.inventory().shards(), "ShardsCompared", run.inventory().shardsDone()));
        }
        body.put("Progress", progress);
        body.put("ByInventory", run.byInventory());
        Map<String, Object> sites = new LinkedHashMap<>();
        run.bySite().forEach((site, counts) -> sites.put(site, counts(counts)));
        body.put("Sites", sites);
        body.put("Total", counts(run.total()));
        body.put("Findings", run.findings());
        body.put("Problems", run.problems());
        body.put("Error", run.error());
        return body;
    }

    static Map<String, Object> counts(SiteCounts c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Expected", c.expected());
        m.put("Identical", c.identical());
        m.put("InFlight", c.inFlight());
        m.put("Missing", c.missing());
        m.put("Divergent", c.divergent());
        m.put("OutOfOrder", c.outOfOrder());
        m.put("Stuck", c.stuck());
        m.put("Failed", c.failed());
        m.put("Skipped", c.skipped());
        m.put("Extra", c.extra());
        m.put("Repaired", c.repaired());
        return m;
    }

    static Map<String, Object> findings(VerifyRunStore.FindingsPage page) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("IsTruncated", page.nextMarker() != null);
        if (page.nextMarker() != null) {
            body.put("NextMarker", page.nextMarker());
        }
        List<Map<String, Object>> findings = new ArrayList<>();
        for (Finding f : page.findings()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Kind", f.kind().name());
            m.put("Site", f.site());
            m.put("Bucket", f.bucket());
            m.put("Key", f.key());
            m.put("VersionId", f.versionId());
            m.put("DeleteMarker", f.deleteMarker());
            m.put("Detail", f.detail());
            findings.add(m);
        }
        body.put("Findings", findings);
        return body;
    }
}
