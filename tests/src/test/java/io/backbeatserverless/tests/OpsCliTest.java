package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.ops.cli.OpsCli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The operator's CLI ({@code ./localstack/ops}) against the embedded stack's ops API. */
class OpsCliTest extends StackScenario {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void pausesResumesAndReportsThroughTheApi() throws Exception {
        String site = SharedStack.PAUSE_LOCATION;
        assertThat(run("pause", site).exit).isZero();
        assertThat(MAPPER.readTree(run("status", "--json", site).out).path(site).asText()).isEqualTo("disabled");
        assertThat(run("status", site).out).as("what the operator did, not Backbeat's word").containsPattern(site + " +paused +none: paused until resumed");
        assertThat(run("resume", site, "--in-hours", "3").exit).isZero();
        String scheduled = MAPPER.readTree(run("resume", site, "--show-schedule").out).path(site).asText();
        assertThat(scheduled).isNotEqualTo("none");
        assertThat(run("status", site).out).contains(site).contains("paused").contains(scheduled + " (in 2 h 59 min)");
        assertThat(run("resume", site, "--cancel-schedule").exit).isZero();
        assertThat(run("resume", site).exit).isZero();
        assertThat(MAPPER.readTree(run("status", "--json").out).path(site).asText()).isEqualTo("enabled");
        assertThat(run("status").out).containsPattern(site + " +replicating +-");

        JsonNode metrics = MAPPER.readTree(run("metrics", site, "--type", "backlog").out);
        assertThat(metrics.path("backlog").path("results").has("count")).isTrue();
        assertThat(MAPPER.readTree(run("failed", "list", "--site", site).out).isArray()).isTrue();

        Result refused = runAs("wrong", "status", "--json");
        assertThat(refused.exit).isEqualTo(1);
        assertThat(refused.err).contains("AccessDenied");
        assertThat(run("metrics", "mars").err).contains("RouteNotFound");
    }

    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        return runAs("verySecretKey1", args);
    }

    private static Result runAs(String secret, String... args) {
        List<String> all = new ArrayList<>(List.of("--endpoint", stack.opsEndpoint.toString(),
                "--access-key", "accessKey1", "--secret-key", secret));
        all.addAll(List.of(args));
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new OpsCli()).execute(all.toArray(String[]::new));
            return new Result(exit, outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
