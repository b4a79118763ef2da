package io.backbeatserverless.ops.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.backbeatserverless.ops.OpsClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** The operator's command line on the ops API: failed entries, retries, pause/resume, status, metrics, verify. */
@Command(name = "ops", mixinStandardHelpOptions = true,
        subcommands = {OpsCli.Failed.class, OpsCli.Pause.class, OpsCli.Resume.class, OpsCli.Status.class, OpsCli.Metrics.class,
                OpsCli.Backfill.class, OpsCli.Rules.class, VerifyCommand.class, OpsCli.SourceEvents.class, OpsCli.TriggerFailures.class},
        description = "Calls the ops API (SigV4, service execute-api): a local stack's, or the deployed stack's OpsUrl.")
public final class OpsCli {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Option(names = "--endpoint", defaultValue = "${env:BACKBEAT_OPS_ENDPOINT:-http://127.0.0.1:8900}",
            description = "ops API base URL (default: $BACKBEAT_OPS_ENDPOINT or ${DEFAULT-VALUE})")
    URI endpoint;
    @Option(names = "--access-key", description = "access key id (default: the AWS SDK's credentials: $AWS_ACCESS_KEY_ID, "
            + "$AWS_PROFILE, SSO, ...; for a local endpoint, the local stack's key)")
    String accessKey;
    @Option(names = "--secret-key", description = "secret access key, with --access-key")
    String secretKey;
    @Option(names = "--session-token", description = "session token of temporary credentials, with --access-key")
    String sessionToken;
    @Option(names = "--region", defaultValue = "${env:AWS_REGION:-${env:AWS_DEFAULT_REGION:-}}",
            description = "signing region (default: $AWS_REGION, else the API's host names it, else us-east-1)")
    String region;

    public static void main(String[] args) {
        System.exit(new CommandLine(new OpsCli()).execute(args));
    }

    /** A signed client for the API the global options name. */
    OpsClient client() {
        return new OpsClient(endpoint, CliCredentials.resolve(endpoint, accessKey, secretKey, sessionToken),
                CliCredentials.region(endpoint, region));
    }

    int call(String method, String path, Map<String, String> query, String body) throws Exception {
        OpsClient.Reply reply = client().call(method, path, query, body);
        String text = reply.body();
        try {
            text = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(MAPPER.readTree(reply.body()));
        } catch (Exception notJson) {
            // print as it came
        }
        (reply.status() < 300 ? System.out : System.err).println(text);
        return reply.status() < 300 ? 0 : 1;
    }

    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Command(name = "failed", mixinStandardHelpOptions = true, subcommands = {Failed.ListFailed.class, Failed.Retry.class},
            description = "Failed entries of a site: list, retry.")
    static final class Failed {
        @ParentCommand
        OpsCli cli;

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists a site's failed entries (every page).")
        static final class ListFailed implements Callable<Integer> {
            @ParentCommand
            Failed failed;
            @Option(names = "--site", required = true, description = "the site")
            String site;

            @Override
            public Integer call() throws Exception {
                OpsClient client = failed.cli.client();
                ArrayNode all = MAPPER.createArrayNode();
                String marker = null;
                while (true) {
                    Map<String, String> query = marker == null ? Map.of("sitename", site) : Map.of("sitename", site, "marker", marker);
                    OpsClient.Reply reply = client.call("GET", "/_/crr/failed", query, null);
                    if (reply.status() >= 300) {
                        System.err.println(reply.body());
                        return 1;
                    }
                    JsonNode page = MAPPER.readTree(reply.body());
                    page.path("Versions").forEach(all::add);
                    if (!page.path("IsTruncated").asBoolean()) {
                        break;
                    }
                    marker = page.path("NextMarker").asText();
                }
                System.out.println(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(all));
                System.err.println(all.size() + " failed entr" + (all.size() == 1 ? "y" : "ies") + " at " + site);
                return 0;
            }
        }

        @Command(name = "retry", mixinStandardHelpOptions = true, description = "Retries one failed entry, or all of a site's (--all).")
        static final class Retry implements Callable<Integer> {
            @ParentCommand
            Failed failed;
            @Option(names = "--site", required = true, description = "the site")
            String site;
            @Option(names = "--all", description = "every failed entry of the site")
            boolean all;
            @Option(names = "--bucket", description = "source bucket")
            String bucket;
            @Option(names = "--key", description = "object key")
            String key;
            @Option(names = "--version-id", description = "version id")
            String versionId;
            @Option(names = "--force", description = "re-queue even if the entry is not failed (ForceRetry)")
            boolean force;

            @Override
            public Integer call() throws Exception {
                if (all) {
                    // The API retries every page of the site's failed entries itself.
                    return failed.cli.call("POST", "/_/crr/failed", Map.of("sitename", site, "all", "true"), null);
                }
                if (bucket == null || key == null || versionId == null) {
                    throw new CommandLine.ParameterException(new CommandLine(this), "give --bucket, --key and --version-id, or --all");
                }
                ArrayNode body = MAPPER.createArrayNode();
                body.addObject().put("Bucket", bucket).put("Key", key).put("VersionId", versionId).put("StorageClass", site).put("ForceRetry", force);
                return failed.cli.call("POST", "/_/crr/failed", Map.of(), MAPPER.writeValueAsString(body));
            }
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pauses replication to a site (or all).")
    static final class Pause implements Callable<Integer> {
        @ParentCommand
        OpsCli cli;
        @Parameters(index = "0", defaultValue = "all", description = "site, or all (default)")
        String site;

        @Override
        public Integer call() throws Exception {
            return cli.call("POST", "/_/crr/pause/" + segment(site), Map.of(), null);
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resumes a site (or all) now, or pauses it and resumes it in --in-hours.")
    static final class Resume implements Callable<Integer> {
        @ParentCommand
        OpsCli cli;
        @Parameters(index = "0", defaultValue = "all", description = "site, or all (default)")
        String site;
        @Option(names = "--in-hours", description = "schedule the resume this many hours from now")
        Double hours;
        @Option(names = "--cancel-schedule", description = "cancel a scheduled resume")
        boolean cancel;
        @Option(names = "--show-schedule", description = "show the scheduled resume")
        boolean show;

        @Override
        public Integer call() throws Exception {
            String path = "/_/crr/resume/" + segment(site);
            if (show) {
                return cli.call("GET", path, Map.of(), null);
            }
            if (cancel) {
                return cli.call("DELETE", path + "/schedule", Map.of(), null);
            }
            if (hours != null) {
                return cli.call("POST", path + "/schedule", Map.of(), "{\"hours\":" + hours + "}");
            }
            return cli.call("POST", path, Map.of(), null);
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Shows whether each site is enabled or paused.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        OpsCli cli;
        @Parameters(index = "0", arity = "0..1", description = "site (default: all)")
        String site;
        @Option(names = "--json", description = "Backbeat's answer as it is ({\"site\": \"enabled\" | \"disabled\"})")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String which = site == null ? "all" : segment(site);
            if (json) {
                return cli.call("GET", site == null ? "/_/crr/status" : "/_/crr/status/" + which, Map.of(), null);
            }
            OpsClient client = cli.client();
            OpsClient.Reply states = client.call("GET", site == null ? "/_/crr/status" : "/_/crr/status/" + which, Map.of(), null);
            OpsClient.Reply resumes = states.status() < 300 ? client.call("GET", "/_/crr/resume/" + which, Map.of(), null) : states;
            if (states.status() >= 300 || resumes.status() >= 300) {
                System.err.println(states.status() >= 300 ? states.body() : resumes.body());
                return 1;
            }
            JsonNode scheduled = MAPPER.readTree(resumes.body());
            java.time.Instant now = java.time.Instant.now();
            System.out.printf("%-24s %-12s %s%n", "SITE", "REPLICATION", "SCHEDULED RESUME");
            for (var entry : (Iterable<Map.Entry<String, JsonNode>>) MAPPER.readTree(states.body()).properties()::iterator) {
                boolean paused = !"enabled".equals(entry.getValue().asText());
                String at = scheduled.path(entry.getKey()).asText("none");
                String resume = !at.equals("none") ? at + " (in " + untilText(now, java.time.Instant.parse(at)) + ")"
                        : paused ? "none: paused until resumed" : "-";
                System.out.printf("%-24s %-12s %s%n", entry.getKey(), paused ? "paused" : "replicating", resume);
            }
            return 0;
        }

        private static String untilText(java.time.Instant now, java.time.Instant at) {
            java.time.Duration left = java.time.Duration.between(now, at);
            if (left.isNegative()) {
                return "due now";
            }
            return left.toHours() > 0 ? left.toHours() + " h " + left.toMinutesPart() + " min" : left.toMinutes() + " min";
        }
    }

    @Command(name = "source-events", mixinStandardHelpOptions = true,
            description = "The S3-events feed's queue: messages waiting and dead letters (status), or the dead letters sent back to it (redrive).")
    static final class SourceEvents implements Callable<Integer> {
        @ParentCommand
        OpsCli cli;
        @Parameters(index = "0", arity = "0..1", defaultValue = "status", description = "status (default) or redrive")
        String action;

        @Override
        public Integer call() throws Exception {
            return switch (action) {
                case "status" -> cli.call("GET", "/_/crr/source-events", Map.of(), null);
                case "redrive" -> cli.call("POST", "/_/crr/source-events/redrive", Map.of(), null);
                default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown action '" + action + "': status or redrive");
            };
        }
    }

    @Command(name = "trigger-failures", mixinStandardHelpOptions = true,
            description = "The batches the MSK triggers gave up on: listed (list), or published again onto their topics (replay).")
    static final class TriggerFailures implements Callable<Integer> {
        @ParentCommand
        OpsCli cli;
        @Parameters(index = "0", arity = "0..1", defaultValue = "list", description = "list (default) or replay")
        String action;

        @Override
        public Integer call() throws Exception {
            return switch (action) {
                case "list" -> cli.call("GET", "/_/crr/trigger-failures", Map.of(), null);
                case "replay" -> cli.call("POST", "/_/crr/trigger-failures/replay", Map.of(), null);
                default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown action '" + action + "': list or replay");
            };
        }
    }

    @Command(name = "rules", mixinStandardHelpOptions = true,
            description = "The rule store (for AWS S3 sources): put, get, delete or list buckets' replication configurations.")
    static final class Rules implements Callable<Integer> {
        @ParentCommand
        OpsCli cli;
        @Parameters(index = "0", description = "put, get, delete or list")
        String action;
        @Parameters(index = "1", arity = "0..1", description = "source bucket")
        String bucket;
        @Option(names = "--file", description = "the ReplicationConfiguration JSON (as aws s3api put-bucket-replication takes it), for put")
        java.nio.file.Path file;

        @Override
        public Integer call() throws Exception {
            if (action.equals("list")) {
                return cli.call("GET", "/_/rules", Map.of(), null);
            }
            if (bucket == null) {
                throw new CommandLine.ParameterException(new CommandLine(this), "give the bucket");
            }
            String path = "/_/rules/" + segment(bucket);
            return switch (action) {
                case "get" -> cli.call("GET", path, Map.of(), null);
                case "delete" -> cli.call("DELETE", path, Map.of(), null);
                case "put" -> {
                    if (file == null) {
                        throw new CommandLine.ParameterException(new CommandLine(this), "put needs --file");
                    }
                    yield cli.call("PUT", path, Map.of(), java.nio.file.Files.readString(file));
                }
                default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown action '" + action + "'");
            };
        }
    }

    @Command(name = "backfill", mixinStandardHelpOptions = true,
            description = {"Backfill jobs (issue 29): --bucket starts one (a page at a time: a listing of the source, one of each site, "
                    + "copies of what is missing), --job shows one; with neither, the listing feed's pass. --watch follows it to the end "
                    + "with a progress bar and an estimate of the time left."})
    static final class Backfill implements Callable<Integer> {
        @ParentCommand
        OpsCli cli;
        @Option(names = "--bucket", description = "start a backfill job of this bucket's existing versions")
        String bucket;
        @Option(names = "--site", description = "only to this site (repeatable; default: every site of the bucket's rules)")
        List<String> sites;
        @Option(names = "--prefix", description = "only the keys under this prefix")
        String prefix;
        @Option(names = "--job", description = "show this job")
        String job;
        @Option(names = "--watch", description = "redraw every second until the job (or the pass) is done")
        boolean watch;

        @Override
        public Integer call() throws Exception {
            OpsClient client = cli.client();
            if (bucket != null) {
                Map<String, Object> request = new LinkedHashMap<>();
                request.put("Bucket", bucket);
                if (prefix != null) {
                    request.put("Prefix", prefix);
                }
                if (sites != null) {
                    request.put("Sites", sites);
                }
                OpsClient.Reply started = client.call("POST", "/_/backfill/jobs", Map.of(), MAPPER.writeValueAsString(request));
                if (started.status() >= 300) {
                    System.err.println(started.body());
                    return 1;
                }
                job = MAPPER.readTree(started.body()).path("Id").asText();
                System.out.println("backfill job " + job + " started");
            }
            return job != null ? followJob(client) : followPass(client);
        }

        private Integer followJob(OpsClient client) throws Exception {
            long startedMs = System.currentTimeMillis();
            Long firstDone = null;
            while (true) {
                OpsClient.Reply reply = client.call("GET", "/_/backfill/jobs/" + segment(job), Map.of(), null);
                if (reply.status() >= 300) {
                    System.err.println(reply.body());
                    return 1;
                }
                JsonNode j = MAPPER.readTree(reply.body());
                long done = doneVersions(j);
                if (firstDone == null) {
                    firstDone = done;
                }
                String state = j.path("State").asText();
                boolean over = state.equals("DONE") || state.equals("FAILED");
                System.out.print((watch ? "\r" : "") + jobBar(j, done - firstDone, System.currentTimeMillis() - startedMs));
                if (!watch || over) {
                    System.out.println();
                    if (!watch || !over) {
                        System.out.println(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(j));
                    }
                    return state.equals("FAILED") ? 1 : 0;
                }
                Thread.sleep(1000);
            }
        }

        /** Versions answered at every site (the slowest site's). */
        static long doneVersions(JsonNode j) {
            long least = Long.MAX_VALUE;
            for (JsonNode s : j.path("BySite")) {
                least = Math.min(least, s.path("Completed").asLong() + s.path("Failed").asLong() + s.path("Skipped").asLong());
            }
            return least == Long.MAX_VALUE ? 0 : least;
        }

        /**
         * The job as a bar: versions answered at the slowest site out of those queued so far, and the time left at the rate
         * seen since the watch began (only once the listing is done: before, the total is not known).
         */
        static String jobBar(JsonNode j, long doneSinceWatch, long elapsedMs) {
            long queued = j.path("Listing").path("Queued").asLong();
            boolean listed = j.path("Listing").path("Done").asBoolean();
            long done = doneVersions(j);
            int width = 30;
            int filled = queued > 0 ? (int) Math.min(width, width * done / queued) : listed ? width : 0;
            String eta = "";
            if (listed && doneSinceWatch > 0 && done < queued) {
                long seconds = (queued - done) * elapsedMs / doneSinceWatch / 1000;
                eta = String.format(", about %dm%02ds left", seconds / 60, seconds % 60);
            }
            long failed = 0;
            for (JsonNode s : j.path("BySite")) {
                failed += s.path("Failed").asLong();
            }
            return String.format("[%s%s] %s %s: %d/%d%s versions at every site, %d pages listed, %d failed%s%s", "#".repeat(filled),
                    ".".repeat(width - filled), j.path("Id").asText(), j.path("State").asText(), done, queued, listed ? "" : "+",
                    j.path("Listing").path("Pages").asLong(), failed, eta,
                    j.hasNonNull("Error") ? ": " + j.path("Error").asText() : "");
        }

        private Integer followPass(OpsClient client) throws Exception {
            while (true) {
                OpsClient.Reply reply = client.call("GET", "/_/backfill/progress", Map.of(), null);
                if (reply.status() >= 300) {
                    System.err.println(reply.body());
                    return 1;
                }
                JsonNode p = MAPPER.readTree(reply.body());
                System.out.print((watch ? "\r" : "") + bar(p));
                if (!watch || p.path("done").asBoolean()) {
                    System.out.println();
                    return 0;
                }
                Thread.sleep(1000);
            }
        }

        static String bar(JsonNode p) {
            long total = p.path("bucketTotal").asLong();
            long scanned = p.path("bucketScanned").asLong();
            int width = 30;
            int filled = p.path("done").asBoolean() ? width : total > 0 ? (int) Math.min(width, width * scanned / total) : 0;
            String bucket = p.path("done").asBoolean() ? "all " + p.path("buckets").asInt() + " buckets"
                    : "bucket " + (p.path("bucketIndex").asInt() + 1) + "/" + p.path("buckets").asInt() + " " + p.path("bucket").asText()
                    + " " + scanned + "/" + total;
            return String.format("[%s%s] pass %d %s, %d versions scanned, %d queued%s", "#".repeat(filled), ".".repeat(width - filled),
                    p.path("pass").asLong(), bucket, p.path("scanned").asLong(), p.path("queued").asLong(),
                    p.path("done").asBoolean() ? ", done" : "");
        }
    }

    @Command(name = "metrics", mixinStandardHelpOptions = true, description = "Backlog, completions, failures, throughput, pending of a site (or all).")
    static final class Metrics implements Callable<Integer> {
        @ParentCommand
        OpsCli cli;
        @Parameters(index = "0", defaultValue = "all", description = "site, or all (default)")
        String site;
        @Option(names = "--type", defaultValue = "all", description = "backlog, completions, failures, throughput, pending or all")
        String type;

        @Override
        public Integer call() throws Exception {
            return cli.call("GET", "/_/metrics/crr/" + segment(site) + "/" + type, new LinkedHashMap<>(), null);
        }
    }
}
