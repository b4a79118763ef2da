package io.backbeatserverless.ops.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.ops.OpsClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ops verify}: starts a verify run and, with {@code --watch}, shows its progress until it ends, then its
 * report: per site what was expected and found, and every finding. Exit status 0 when nothing is missing,
 * divergent or stuck, 3 when something is, 1 on an error.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Checks that every version the rules select is at every site, identical (or listed with a reason).")
final class VerifyCommand implements Callable<Integer> {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final int NOT_CLEAN = 3;

    @ParentCommand
    OpsCli cli;
    @Option(names = "--bucket", description = "the source bucket (default: every bucket with replication rules)")
    String bucket;
    @Option(names = "--site", description = "a site to check (repeatable; default: every site the rules name)")
    List<String> sites = new ArrayList<>();
    @Option(names = "--prefix", defaultValue = "", description = "only keys under this prefix")
    String prefix;
    @Option(names = "--repair", description = "queue missing, divergent and stuck versions again (through the normal path; a site's"
            + " missing versions by a backfill job once a page holds 100 of them)")
    boolean repair;
    @Option(names = "--stuck-after-seconds", description = "how long a version may be on its way before it counts as stuck (default 900)")
    Long stuckAfterSeconds;
    @Option(names = "--deep", description = "read every version whole (HEAD and tags at the source and the site), not by the listings")
    boolean deep;
    @Option(names = "--sample", description = "fraction of keys read whole when not --deep (default 0.01)")
    Double sample;
    @Option(names = "--watch", description = "show progress until the run ends, then its report")
    boolean watch;
    @Option(names = "--show", paramLabel = "ID", description = "show run ID (its progress, or its report once it has ended) instead of starting one")
    String show;

    @Override
    public Integer call() throws Exception {
        OpsClient client = cli.client();
        JsonNode run;
        if (show != null) {
            run = read(client, "GET", "/_/crr/verify/" + OpsCli.segment(show), null);
        } else {
            ObjectNode request = MAPPER.createObjectNode();
            if (bucket != null) {
                request.put("Bucket", bucket);
            }
            request.putArray("Sites").addAll(sites.stream().map(s -> MAPPER.getNodeFactory().textNode(s)).toList());
            request.put("Prefix", prefix);
            request.put("Repair", repair);
            request.put("Deep", deep);
            if (sample != null) {
                request.put("SampleFraction", sample);
            }
            if (stuckAfterSeconds != null) {
                request.put("StuckAfterSeconds", stuckAfterSeconds);
            }
            run = read(client, "POST", "/_/crr/verify", request.toString());
        }
        if (run == null) {
            return 1;
        }
        if (!watch && !run.path("Phase").asText().matches("DONE|FAILED|CANCELLED")) {
            System.out.println(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(run));
            System.err.println("verify run " + run.path("Id").asText() + " started: ops verify --show " + run.path("Id").asText() + " --watch");
            return 0;
        }
        String id = run.path("Id").asText();
        while (!run.path("Phase").asText().matches("DONE|FAILED|CANCELLED")) {
            System.err.print("\r" + bar(run));
            Thread.sleep(1000);
            run = read(client, "GET", "/_/crr/verify/" + OpsCli.segment(id), null);
            if (run == null) {
                return 1;
            }
        }
        System.err.println("\r" + bar(run));
        report(client, run, System.out);
        return run.path("Clean").asBoolean() ? 0 : NOT_CLEAN;
    }

    private static JsonNode read(OpsClient client, String method, String path, String body) throws Exception {
        OpsClient.Reply reply = client.call(method, path, Map.of(), body);
        if (reply.status() >= 300) {
            System.err.println(reply.body());
            return null;
        }
        return MAPPER.readTree(reply.body());
    }

    static String bar(JsonNode run) {
        JsonNode p = run.path("Progress");
        int width = 30;
        int percent = p.path("Percent").asInt();
        int filled = width * percent / 100;
        String where = switch (run.path("Phase").asText()) {
            case "COUNTING" -> "counting versions";
            case "VERIFYING" -> "bucket " + p.path("Bucket").asText("");
            default -> run.path("Phase").asText().toLowerCase();
        };
        return String.format("[%s%s] %3d%% %s, %d/%d versions, %d findings", "#".repeat(filled), ".".repeat(width - filled), percent, where,
                p.path("Scanned").asLong(), p.path("Total").asLong(), run.path("Findings").asLong());
    }

    /** The per-site counts as a table, then every finding, then the verdict. */
    static void report(OpsClient client, JsonNode run, PrintStream out) throws Exception {
        out.printf("verify %s: %s%n", run.path("Id").asText(), run.path("Phase").asText());
        out.printf("%-20s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s%n", "site", "expected", "identical", "in-flight", "missing", "divergent",
                "misorder", "stuck", "failed", "skipped", "extra", "repaired");
        Map<String, JsonNode> sites = new LinkedHashMap<>();
        run.path("Sites").fields().forEachRemaining(e -> sites.put(e.getKey(), e.getValue()));
        sites.forEach((site, c) -> out.printf("%-20s %9d %9d %9d %9d %9d %9d %9d %9d %9d %9d %9d%n", site, c.path("Expected").asLong(),
                c.path("Identical").asLong(), c.path("InFlight").asLong(), c.path("Missing").asLong(), c.path("Divergent").asLong(),
                c.path("OutOfOrder").asLong(), c.path("Stuck").asLong(), c.path("Failed").asLong(), c.path("Skipped").asLong(),
                c.path("Extra").asLong(), c.path("Repaired").asLong()));
        String marker = null;
        do {
            Map<String, String> query = marker == null ? Map.of() : Map.of("marker", marker);
            OpsClient.Reply reply = client.call("GET", "/_/crr/verify/" + OpsCli.segment(run.path("Id").asText()) + "/findings", query, null);
            JsonNode page = MAPPER.readTree(reply.body());
            for (JsonNode f : page.path("Findings")) {
                out.printf("%-9s %s %s/%s version %s%s: %s%n", f.path("Kind").asText(), f.path("Site").asText(), f.path("Bucket").asText(),
                        f.path("Key").asText(), f.path("VersionId").asText(), f.path("DeleteMarker").asBoolean() ? " (delete marker)" : "",
                        f.path("Detail").asText());
            }
            marker = page.path("IsTruncated").asBoolean() ? page.path("NextMarker").asText() : null;
        } while (marker != null);
        run.path("Problems").forEach(p -> out.println("PROBLEM   " + p.asText()));
        for (JsonNode job : run.path("RepairJobs")) {
            String site = job.path("Sites").path(0).asText();
            JsonNode progress = job.path("Sites").isEmpty() ? MAPPER.nullNode() : job.path("BySite").path(site);
            out.printf("REPAIR    site %s, bucket %s: its missing versions are copied by backfill job %s (%s%s); ops backfill --job %s --watch%n",
                    site, job.path("Bucket").asText(), job.path("Id").asText(), job.path("State").asText(),
                    progress.isMissingNode() || progress.isNull() ? "" : ", " + progress.path("Completed").asLong() + " completed, "
                            + progress.path("Failed").asLong() + " failed", job.path("Id").asText());
        }
        if (!run.path("Error").isNull() && !run.path("Error").asText("").isEmpty()) {
            out.println("ERROR     " + run.path("Error").asText());
        }
        out.println(run.path("Clean").asBoolean() ? "nothing lost: every version is at every site, identical, or listed with its reason"
                : "NOT CLEAN: see the missing, divergent or stuck versions above (--repair queues them again)");
    }
}
