package io.backbeatserverless.infra;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * cfn-lint (1.51.0, which .ci/run installs) on the templates of both deployment shapes: no error and no warning. A
 * warning is fixed, or suppressed in the resource's metadata with its reason in the code that writes it
 * ({@code BackbeatStack.RedundantDependsOnOfGeneratedResources}).
 */
class CfnLintTest {

    @TempDir
    Path work;

    @Test
    void bothTemplatesAreCleanForCfnLint() throws Exception {
        List<String> command = new ArrayList<>(List.of("cfn-lint", "--format", "parseable"));
        for (var deployment : List.of(BackbeatStackTest.TWO_SITES, ProvisionedKafkaStackTest.PROVISIONED_CLOUDSERVER)) {
            Path directory = Files.createTempDirectory(work, "synth");
            SynthesizedDeployment.of(deployment, directory);
            command.add(directory.resolve("cdk.out").resolve("Backbeat.template.json").toString());
        }
        Process lint;
        try {
            lint = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("cfn-lint is not on the PATH: .ci/run installs it (pip install cfn-lint==1.51.0)", e);
        }
        String output = new String(lint.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(lint.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(output).as("cfn-lint's findings").isEmpty();
        assertThat(lint.exitValue()).as(output).isZero();
    }
}
