package io.backbeatserverless.infra;

import io.github.cdklabs.cdknag.AwsSolutionsChecks;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Aspects;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Template;

import java.nio.file.Path;

/**
 * A stack synthesized once for a test class, from a deployment file's text, with small stand-ins for the
 * deployment packages (the real jars may not be built when the tests run) and cdk-nag applied.
 */
record SynthesizedDeployment(BackbeatStack stack, Template template) {

    static SynthesizedDeployment of(String deploymentJson, Path workDirectory) {
        App app = new App(software.amazon.awscdk.AppProps.builder()
                .outdir(workDirectory.resolve("cdk.out").toString()).build());
        BackbeatStack stack = new BackbeatStack(app, "Backbeat", StackProps.builder().build(),
                DeploymentConfig.parse(deploymentJson), DeploymentAssets.standIns(workDirectory));
        Aspects.of(app).add(new AwsSolutionsChecks());
        return new SynthesizedDeployment(stack, Template.fromStack(stack));
    }
}
