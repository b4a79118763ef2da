package io.backbeatserverless.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.backbeatserverless.core.json.JsonDocuments;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.core.entry.MalformedRecord;
import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.ops.FailedEntry;
import io.backbeatserverless.core.ops.FailedEntryStore;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Backbeat's REST routes and response shapes (shared/reference/backbeat-api.md), transport-free: the
 * Lambda handler and the local HTTP server both call {@link #handle}. Authentication happens before
 * (IAM on the Function URL in AWS, {@link SigV4Verifier} locally).
 */
public final class OpsApi {

    private static final Logger LOG = LoggerFactory.getLogger(OpsApi.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Duration DAY = Duration.ofHours(24);
    private static final Duration THROUGHPUT_WINDOW = Duration.ofMinutes(15);
    private static final Set<String> METRIC_TYPES = Set.of("backlog", "completions", "failures", "throughput", "pending", "all");

    private static final Pattern METRICS = Pattern.compile("^/_/metrics/crr/([^/]+)(?:/([^/]+))?$");
    private static final Pattern PROGRESS = Pattern.compile("^/_/metrics/crr/([^/]+)/progress/([^/]+)/(.+)$");
    private static final Pattern FAILED_VERSION = Pattern.compile("^/_/crr/failed/([^/]+)/(.+)$");
    private static final Pattern STATUS = Pattern.compile("^/_/crr/status(?:/([^/]+))?$");
    private static final Pattern PAUSE_RESUME = Pattern.compile("^/_/crr/(pause|resume)(?:/([^/]+))?$");
    private static final Pattern SCHEDULE = Pattern.compile("^/_/crr/resume/([^/]+)/schedule$");
    private static final Pattern RULES = Pattern.compile("^/_/rules/([^/]+)$");
    /** A failed-entry page marker: the failure time (15 digits) and the version, as the store's sort key. */
    private static final Pattern FAILED_MARKER = Pattern.compile("^\\d{15}#.+$", Pattern.DOTALL);
    private static final Pattern BACKFILL_JOB = Pattern.compile("^/_/backfill/jobs/([^/]+)$");
    private static final Pattern VERIFY_RUN = Pattern.compile("^/_/crr/verify/([^/]+)(/findings)?$");

    /** One request: method, path (percent-decoded per segment by the caller or not), query, body. */
    public record Request(String method, String path, Map<String, String> query, String body) {
    }

    public record Response(int status, String contentType, String body) {
        static Response json(int status, Object value) {
            try {
                return new Response(status, "application/json", MAPPER.writeValueAsString(value));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private final OpsService ops;
    private final KafkaHealth kafka;
    private final TriggerFailureReplay triggerFailures;
    private final SourceEventsRedrive sourceEvents;
    private final BackfillJobs backfillJobs;

    public OpsApi(OpsService ops, KafkaHealth kafka) {
        this(ops, kafka, null);
    }

    public OpsApi(OpsService ops, KafkaHealth kafka, TriggerFailureReplay triggerFailures) {
        this(ops, kafka, triggerFailures, null);
    }

    /**
     * @param triggerFailures the MSK triggers' failed batches (in AWS), or null where there is no such bucket
     * @param sourceEvents    the S3-events feed's queue and its dead letters, or null on another feed
     */
    public OpsApi(OpsService ops, KafkaHealth kafka, TriggerFailureReplay triggerFailures, SourceEventsRedrive sourceEvents) {
        this(ops, kafka, triggerFailures, sourceEvents, null);
    }

    /** @param backfillJobs the backfill jobs (issue 29), or null where they are not kept */
    OpsApi(OpsService ops, KafkaHealth kafka, TriggerFailureReplay triggerFailures, SourceEventsRedrive sourceEvents,
           BackfillJobs backfillJobs) {
        this.backfillJobs = backfillJobs;
        this.ops = ops;
        this.kafka = kafka;
        this.triggerFailures = triggerFailures;
        this.sourceEvents = sourceEvents;
    }

    /** The S3-events queue's counts and redrive, or null on another feed. */
    public SourceEventsRedrive sourceEvents() {
        return sourceEvents;
    }

    public Response handle(Request request) {
        try {
            return route(request.method().toUpperCase(Locale.ROOT), request.path(), request.query(), request.body());
        } catch (OpsException e) {
            return error(e.status(), e.code(), e.getMessage());
        } catch (RuntimeException e) {
            // The detail is for the operator's log, not for whoever asked: an exception's text can name internals.
            String incident = java.util.UUID.randomUUID().toString();
            LOG.error("ops API: {} {} failed (incident {})", request.method(), request.path(), incident, e);
            return error(500, "InternalError", "the ops API failed on this request; its log says why (incident " + incident + ")");
        }
    }

    /** The answer to a query string that is not percent-encoding, at either door (the local server, the Lambda handler). */
    static Response invalidQueryString() {
        return error(400, "InvalidQueryString", "the query string is not valid percent-encoding");
    }

    public static Response error(int status, String code, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", code);
        body.put("message", message);
        return Response.json(status, body);
    }

    private Response route(String method, String path, Map<String, String> query, String body) {
        Matcher m;
        if (path.equals("/_/healthcheck")) {
            return only(method, "GET", this::healthcheck);
        }
        if (path.equals("/_/monitoring/metrics")) {
            return only(method, "GET", () -> new Response(200, "text/plain; version=0.0.4", prometheus()));
        }
        if ((m = PROGRESS.matcher(path)).matches()) {
            String site = decode(m.group(1), "site");
            String bucket = decode(m.group(2), "bucket");
            String key = decodeKey(m.group(3));
            return only(method, "GET", () -> progress(site, bucket, key, required(query, "versionId")));
        }
        if ((m = METRICS.matcher(path)).matches()) {
            String site = decode(m.group(1), "site");
            String type = m.group(2) == null ? "all" : m.group(2);
            if (type.equals("history")) {
                return only(method, "GET", () -> history(site, query));
            }
            return only(method, "GET", () -> metrics(site, type));
        }
        if (path.equals("/_/crr/failed")) {
            if (method.equals("GET")) {
                return listFailed(query);
            }
            return only(method, "POST", () -> "true".equals(query.get("all")) ? retryAll(query) : retry(body));
        }
        if ((m = FAILED_VERSION.matcher(path)).matches()) {
            String bucket = decode(m.group(1), "bucket");
            String key = decodeKey(m.group(2));
            return only(method, "GET", () -> failedVersion(bucket, key, required(query, "versionId")));
        }
        if ((m = STATUS.matcher(path)).matches()) {
            String site = m.group(1) == null ? null : decode(m.group(1), "site");
            return only(method, "GET", () -> Response.json(200, ops.status(site)));
        }
        if (path.equals("/_/rules")) {
            return only(method, "GET", () -> {
                Map<String, Object> all = new LinkedHashMap<>();
                ops.allRules().forEach((bucket, json) -> all.put(bucket, parseJson(json)));
                return Response.json(200, all);
            });
        }
        if ((m = RULES.matcher(path)).matches()) {
            String bucket = decode(m.group(1), "bucket");
            switch (method) {
                case "GET" -> {
                    return Response.json(200, parseJson(ops.rules(bucket)
                            .orElseThrow(() -> OpsException.notFound("no replication configuration stored for bucket '" + bucket + "'"))));
                }
                case "PUT" -> {
                    ops.putRules(bucket, body == null ? "" : body);
                    return Response.json(200, Map.of());
                }
                case "DELETE" -> {
                    ops.deleteRules(bucket);
                    return Response.json(200, Map.of());
                }
                default -> throw new OpsException(405, "MethodNotAllowed", method + " is not allowed here (use GET, PUT or DELETE)");
            }
        }
        if (path.equals("/_/crr/verify")) {
            if (method.equals("POST")) {
                return Response.json(202, VerifyReports.run(ops.startVerify(VerifyReports.request(body))));
            }
            return only(method, "GET", () -> Response.json(200, Map.of("Runs",
                    ops.verifyRuns(50).stream().map(VerifyReports::run).toList())));
        }
        if ((m = VERIFY_RUN.matcher(path)).matches()) {
            String id = decode(m.group(1), "verify run id");
            if (m.group(2) != null) {
                return only(method, "GET", () -> Response.json(200, VerifyReports.findings(
                        ops.verifyFindings(id, query.get("site"), query.get("marker")))));
            }
            if (method.equals("DELETE")) {
                return Response.json(200, VerifyReports.run(ops.cancelVerify(id)));
            }
            return only(method, "GET", () -> {
                Map<String, Object> report = VerifyReports.run(ops.verifyRun(id));
                if (backfillJobs != null) {
                    report.put("RepairJobs", backfillJobs.repairJobsOf(id));
                }
                return Response.json(200, report);
            });
        }
        if (path.equals("/_/crr/trigger-failures") || path.equals("/_/crr/trigger-failures/replay")) {
            if (triggerFailures == null) {
                throw OpsException.notFound("no trigger failures bucket here: the local trigger retries a failed batch until it "
                        + "goes through; in AWS the stack's MSK triggers keep the batches they give up on (ops.triggerFailuresBucket)");
            }
            return path.endsWith("/replay") ? only(method, "POST", () -> Response.json(200, triggerFailures.replayAll()))
                    : only(method, "GET", () -> Response.json(200, triggerFailures.list()));
        }
        if (path.equals("/_/crr/source-events") || path.equals("/_/crr/source-events/redrive")) {
            if (sourceEvents == null) {
                throw OpsException.notFound("no S3-events queue here: the source is read by another feed (source.feed.type)");
            }
            return path.endsWith("/redrive") ? only(method, "POST", () -> Response.json(200, sourceEvents.redrive()))
                    : only(method, "GET", () -> Response.json(200, sourceEvents.status()));
        }
        if (path.equals("/_/backfill/jobs") || BACKFILL_JOB.matcher(path).matches()) {
            if (backfillJobs == null) {
                throw OpsException.notFound("backfill jobs are not kept here");
            }
            if ((m = BACKFILL_JOB.matcher(path)).matches()) {
                String id = decode(m.group(1), "backfill job id");
                return only(method, "GET", () -> Response.json(200, backfillJobs.get(id)));
            }
            if (method.equals("POST")) {
                return Response.json(202, backfillJobs.start(body));
            }
            return only(method, "GET", () -> Response.json(200, backfillJobs.list()));
        }
        if (path.equals("/_/backfill/progress")) {
            return only(method, "GET", this::backfillProgress);
        }
        if (path.equals("/_/crr/resume/due")) {
            // Ours: the minute tick a schedule invokes in AWS: resumes every site whose scheduled resume is due, reports
            // each site's backlog (S3's pending metrics), and queues again the transient failures whose retry is due.
            return only(method, "POST", () -> Response.json(200, Map.of("resumed", ops.fireDueResumes(), "backlogReported", ops.reportBacklog(),
                    "retried", ops.retryDueFailures())));
        }
        if ((m = SCHEDULE.matcher(path)).matches()) {
            String site = decode(m.group(1), "site");
            if (method.equals("POST")) {
                ops.scheduleResume(site, hours(body));
                return Response.json(200, Map.of());
            }
            return only(method, "DELETE", () -> {
                ops.cancelScheduledResume(site);
                return Response.json(200, Map.of());
            });
        }
        if ((m = PAUSE_RESUME.matcher(path)).matches()) {
            String action = m.group(1);
            String site = m.group(2) == null ? null : decode(m.group(2), "site");
            if (action.equals("resume") && method.equals("GET")) {
                return Response.json(200, ops.scheduledResumes(site));
            }
            return only(method, "POST", () -> {
                if (action.equals("pause")) {
                    ops.pause(site);
                } else {
                    ops.resume(site);
                }
                return Response.json(200, Map.of());
            });
        }
        throw OpsException.notFound("no route " + method + " " + path);
    }

    private interface Action {
        Response run();
    }

    private static Response only(String method, String allowed, Action action) {
        if (!method.equals(allowed)) {
            throw new OpsException(405, "MethodNotAllowed", method + " is not allowed here (use " + allowed + ")");
        }
        return action.run();
    }

    /**
     * The healthcheck for unsigned callers (a load balancer's probe): its status code and {@code {"status":"ok"}} or
     * {@code "error"}, without the topics' layout or Kafka's error text, which are for signed callers (issue 32).
     */
    public Response healthcheckStatus() {
        Response full = healthcheck();
        return Response.json(full.status(), Map.of("status", full.status() == 200 ? "ok" : "error"));
    }

    private Response healthcheck() {
        Map<String, Object> body = new LinkedHashMap<>();
        Map<String, Object> connections = new LinkedHashMap<>();
        int status = 200;
        try {
            Map<String, Object> topics = kafka.describe(List.of(ops.config().kafka().replicationTopic(), ops.config().kafka().statusTopic()));
            body.put("topics", topics);
            boolean isrHealthy = topics.values().stream().allMatch(t -> ((List<?>) ((Map<?, ?>) t).get("partitions")).stream()
                    .allMatch(p -> !((List<?>) ((Map<?, ?>) p).get("isrs")).isEmpty()));
            connections.put("isrHealth", isrHealthy ? "ok" : "error");
            connections.put("kafka", "ok");
            status = isrHealthy ? 200 : 500;
        } catch (Exception e) {
            connections.put("kafka", "error: " + e.getMessage());
            status = 500;
        }
        body.put("internalConnections", connections);
        return Response.json(status, body);
    }

    private Response metrics(String siteOrAll, String type) {
        if (!METRIC_TYPES.contains(type)) {
            throw OpsException.notFound("unknown metrics type '" + type + "' (backlog, completions, failures, throughput, pending, all)");
        }
        List<String> sites = ops.resolveSites(siteOrAll);
        Counters totals = Counters.ZERO;
        Counters day = Counters.ZERO;
        Counters recent = Counters.ZERO;
        for (String site : sites) {
            totals = totals.plus(ops.totals(site));
            day = day.plus(ops.window(site, DAY));
            recent = recent.plus(ops.window(site, THROUGHPUT_WINDOW));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        if (type.equals("all") || type.equals("backlog")) {
            result.put("backlog", metric("Number of incomplete replication operations (count) and number of incomplete bytes transferred (size)",
                    totals.backlog(), totals.backlogBytes()));
        }
        if (type.equals("all") || type.equals("completions")) {
            result.put("completions", metric("Number of completed replication operations (count) and number of bytes transferred (size) in the last 86400 seconds",
                    day.completed(), day.completedBytes()));
        }
        if (type.equals("all") || type.equals("failures")) {
            result.put("failures", metric("Number of failed replication operations (count) and bytes (size) in the last 86400 seconds",
                    day.failed(), day.failedBytes()));
        }
        if (type.equals("all") || type.equals("throughput")) {
            double seconds = THROUGHPUT_WINDOW.toSeconds();
            result.put("throughput", metric("Current throughput for replication operations in ops/sec (count) and bytes/sec (size) in the last 900 seconds",
                    String.format(Locale.ROOT, "%.2f", recent.completed() / seconds), String.format(Locale.ROOT, "%.2f", recent.completedBytes() / seconds)));
        }
        if (type.equals("all") || type.equals("pending")) {
            result.put("pending", metric("Number of pending replication operations (count) and bytes (size)", totals.backlog(), totals.backlogBytes()));
        }
        return Response.json(200, result);
    }

    /**
     * Ours: where the listing feed's pass (the backfill of existing versions) stands: the pass, the
     * bucket being listed, versions scanned and queued, and the bucket's progress in percent.
     */
    private Response backfillProgress() {
        JsonNode cursor = ops.listingCursor()
                .orElseThrow(() -> OpsException.notFound("no listing pass has been recorded (is the source feed 'listing'?)"));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("pass", cursor.path("pass").asLong());
        body.put("passStartedAt", cursor.path("passStartedAt").asText(null));
        body.put("done", cursor.path("done").asBoolean());
        int index = cursor.path("bucketIndex").asInt();
        int buckets = cursor.path("buckets").size();
        body.put("buckets", buckets);
        body.put("bucketIndex", Math.min(index, buckets));
        body.put("bucket", index < buckets ? cursor.path("buckets").get(index).asText() : null);
        long bucketScanned = cursor.path("bucketScanned").asLong();
        long bucketTotal = cursor.path("bucketTotal").asLong();
        body.put("bucketScanned", bucketScanned);
        body.put("bucketTotal", Math.max(bucketTotal, 0));
        body.put("bucketProgress", bucketTotal > 0 ? Math.min(100, Math.round(100.0 * bucketScanned / bucketTotal)) + "%" : "-");
        body.put("scanned", cursor.path("scanned").asLong());
        body.put("queued", cursor.path("queued").asLong());
        body.put("passEndedAt", cursor.path("passEndedAt").asText(null));
        return Response.json(200, body);
    }

    /** Our addition: per-minute completions and failures, for the console's chart. */
    private Response history(String site, Map<String, String> query) {
        ops.resolveSites(site);
        int minutes;
        try {
            minutes = Integer.parseInt(query.getOrDefault("minutes", "60"));
        } catch (NumberFormatException e) {
            throw OpsException.badQuery("minutes must be an integer");
        }
        if (minutes < 1 || minutes > 1440) {
            throw OpsException.badQuery("minutes must be between 1 and 1440");
        }
        List<Map<String, Object>> points = new ArrayList<>();
        for (var point : ops.history(site, minutes)) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("minute", point.getKey().toString());
            p.put("completed", point.getValue().completed());
            p.put("failed", point.getValue().failed());
            points.add(p);
        }
        return Response.json(200, Map.of("site", site, "minutes", points));
    }

    private static Map<String, Object> metric(String description, Object count, Object size) {
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("count", count);
        results.put("size", size);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("description", description);
        m.put("results", results);
        return m;
    }

    private Response progress(String site, String bucket, String key, String versionId) {
        ops.resolveSites(site);
        VersionStatus status = ops.versionStatus(bucket, key, versionId)
                .orElseThrow(() -> OpsException.notFound("no replication status for " + bucket + "/" + key + " version " + versionId
                        + ": never queued, or its record expired after every site had completed it (ops.statusRetentionDays)"));
        SiteOutcome outcome = status.sites().get(site);
        if (outcome == null) {
            throw OpsException.notFound(bucket + "/" + key + " version " + versionId + " is not replicated to " + site);
        }
        long completed = outcome.status() == ReplicationStatus.COMPLETED ? status.size() : 0;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("description", "Number of bytes to be replicated (pending), number of bytes transferred to the destination (completed), and percentage of the object that has completed replication (progress)");
        body.put("pending", status.size() - completed);
        body.put("completed", completed);
        body.put("progress", (status.size() == 0 ? (completed == 0 && outcome.status() != ReplicationStatus.COMPLETED ? 0 : 100)
                : Math.round(100.0 * completed / status.size())) + "%");
        return Response.json(200, body);
    }

    private Response listFailed(Map<String, String> query) {
        String site = query.get("sitename");
        if (site == null || site.isBlank()) {
            throw OpsException.badQuery("sitename is required");
        }
        // The marker is the NextMarker of the page before, as given (opaque; Backbeat's is a number).
        String marker = query.get("marker");
        if ("0".equals(marker)) {
            marker = null; // Backbeat's first page: its clients start at offset 0
        }
        if (marker != null && !marker.isEmpty() && !FAILED_MARKER.matcher(marker).matches()) {
            throw OpsException.badQuery("marker must be the NextMarker of the page before, not '" + marker + "'");
        }
        FailedEntryStore.Page page = ops.listFailed(site, marker == null || marker.isEmpty() ? null : marker);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("IsTruncated", page.truncated());
        if (page.truncated()) {
            body.put("NextMarker", page.nextMarker());
        }
        body.put("Versions", page.entries().stream().map(OpsApi::version).toList());
        return Response.json(200, body);
    }

    private Response failedVersion(String bucket, String key, String versionId) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("IsTruncated", false);
        body.put("Versions", ops.failedVersion(bucket, key, versionId).stream().map(OpsApi::version).toList());
        return Response.json(200, body);
    }

    private Response retry(String body) {
        List<OpsService.RetryRequest> parsed = new ArrayList<>();
        for (BodyFields entry : BodyFields.list(body, "{Bucket, Key, VersionId, StorageClass, ForceRetry?}")) {
            parsed.add(new OpsService.RetryRequest(entry.name("Bucket", true), entry.text("Key", BodyFields.MAX_KEY_BYTES, true),
                    entry.name("VersionId", true), entry.name("StorageClass", true), entry.bool("ForceRetry", false)));
        }
        return retried(ops.retry(parsed));
    }

    /**
     * Our addition for scripts and console test events: {@code POST /_/crr/failed?sitename=<site>&all=true} retries
     * every failed entry of a site, a page at a time; answers how many were queued again and how many cannot be.
     */
    private Response retryAll(Map<String, String> query) {
        String site = query.get("sitename");
        if (site == null || site.isBlank()) {
            throw OpsException.badQuery("sitename is required with all=true");
        }
        OpsService.RetryAll result = ops.retryAll(site);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("Retried", result.retried());
        body.put("Unretryable", result.unretryable());
        return Response.json(200, body);
    }

    /** Backbeat's answer to a retry: each entry re-queued, now PENDING. */
    private static Response retried(List<FailedEntry> entries) {
        List<Map<String, Object>> result = new ArrayList<>();
        for (FailedEntry e : entries) {
            Map<String, Object> v = version(e);
            v.put("ReplicationStatus", "PENDING");
            result.add(v);
        }
        return Response.json(200, result);
    }

    private static Map<String, Object> version(FailedEntry e) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("Bucket", e.bucket());
        v.put("Key", e.objectKey());
        v.put("VersionId", e.versionId());
        v.put("StorageClass", e.site());
        v.put("Size", e.size());
        v.put("LastModified", e.lastModified());
        v.put("FailedAt", e.failedAt().toString());
        v.put("Reason", e.reason());
        v.put("Attempts", e.attempts());
        // Issue 31: a transient failure is retried on its own; when next, and how many automatic retries came before.
        v.put("Transient", e.retryable());
        v.put("AutoRetries", e.autoRetries());
        if (e.nextRetryAt() != null) {
            v.put("NextRetryAt", e.nextRetryAt().toString());
        }
        return v;
    }

    private static JsonNode parseJson(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalStateException("stored document is not JSON", e);
        }
    }

    /** The longest a scheduled resume may be away: a year (Backbeat's default is 6 hours). */
    private static final double MAX_RESUME_HOURS = 24 * 366;

    private static double hours(String body) {
        Double hours = BodyFields.object(body, "{\"hours\": <number>}").number("hours", 0, true, MAX_RESUME_HOURS);
        return hours == null ? 6 : hours;
    }

    private String prometheus() {
        StringBuilder out = new StringBuilder();
        String[][] families = {
                {"backbeat_replication_queued_total", "counter", "Versions queued for replication"},
                {"backbeat_replication_completed_total", "counter", "Versions replicated"},
                {"backbeat_replication_failed_total", "counter", "Versions that failed to replicate"},
                {"backbeat_replication_skipped_total", "counter", "Versions skipped (gone from the source, replicas, superseded)"},
                {"backbeat_replication_backlog", "gauge", "Versions queued and not yet replicated, failed or skipped"},
                {"backbeat_replication_backlog_bytes", "gauge", "Bytes queued and not yet replicated, failed or skipped"},
                {"backbeat_replication_completed_bytes_total", "counter", "Bytes replicated"},
                {"backbeat_site_paused", "gauge", "1 when replication to the site is paused"}};
        Map<String, Counters> bySite = new LinkedHashMap<>();
        Map<String, String> states = ops.status(null);
        for (String site : ops.sites()) {
            bySite.put(site, ops.totals(site));
        }
        for (String[] f : families) {
            out.append("# HELP ").append(f[0]).append(' ').append(f[2]).append('\n');
            out.append("# TYPE ").append(f[0]).append(' ').append(f[1]).append('\n');
            bySite.forEach((site, c) -> {
                long value = switch (f[0]) {
                    case "backbeat_replication_queued_total" -> c.queued();
                    case "backbeat_replication_completed_total" -> c.completed();
                    case "backbeat_replication_failed_total" -> c.failed();
                    case "backbeat_replication_skipped_total" -> c.skipped();
                    case "backbeat_replication_backlog" -> c.backlog();
                    case "backbeat_replication_backlog_bytes" -> c.backlogBytes();
                    case "backbeat_replication_completed_bytes_total" -> c.completedBytes();
                    default -> "disabled".equals(states.get(site)) ? 1 : 0;
                };
                out.append(f[0]).append("{site=\"").append(site).append("\"} ").append(value).append('\n');
            });
        }
        return out.toString();
    }

    private static String required(Map<String, String> query, String name) {
        String value = query.get(name);
        if (value == null || value.isEmpty()) {
            throw OpsException.badQuery(name + " is required");
        }
        return value;
    }

    /**
     * A path segment decoded: the name of a {@code what} (a site, a bucket, an id), at most {@value BodyFields#MAX_NAME_LENGTH}
     * characters; a 400 naming it when it is longer or not percent-encoding.
     */
    private static String decode(String segment, String what) {
        String name = percentDecoded(segment, what);
        if (name.length() > BodyFields.MAX_NAME_LENGTH) {
            throw OpsException.badPath("the " + what + " in the path is " + name.length() + " characters long: at most " + BodyFields.MAX_NAME_LENGTH);
        }
        return name;
    }

    /** An object key may hold '/', so it is the rest of the path, each segment decoded; at most S3's 1,024 bytes. */
    private static String decodeKey(String rest) {
        String key = percentDecoded(rest, "key");
        if (key.getBytes(StandardCharsets.UTF_8).length > BodyFields.MAX_KEY_BYTES) {
            throw OpsException.badPath("the key in the path is longer than S3's " + BodyFields.MAX_KEY_BYTES + " bytes");
        }
        return key;
    }

    private static String percentDecoded(String segment, String what) {
        try {
            return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw OpsException.badPath("the " + what + " in the path is not valid percent-encoding");
        }
    }

}
