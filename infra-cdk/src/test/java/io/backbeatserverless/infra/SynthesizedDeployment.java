package io.backbeatserverless.infra;

import io.github.cdklabs.cdknag.AwsSolutionsChecks;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Aspects;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Template;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A stack synthesized once for a test class, from a deployment file's text, with small stand-ins for the
 * deployment packages (the real jars may not be built when the tests run) and cdk-nag applied.
 */
record SynthesizedDeployment(BackbeatStack stack, Template template) {

    static SynthesizedDeployment of(String deploymentJson, Path workDirectory) {
        App app = new App(software.amazon.awscdk.AppProps.builder()
                .outdir(workDirectory.resolve("cdk.out").toString()).build());
        BackbeatStack stack = new BackbeatStack(app, "Backbeat", StackProps.builder().build(),
                DeploymentConfig.parse(deploymentJson), standInAssets(workDirectory));
        Aspects.of(app).add(new AwsSolutionsChecks());
        return new SynthesizedDeployment(stack, Template.fromStack(stack));
    }

    /** Tiny jars and an image context, enough for CDK to stage and fingerprint them. */
    static DeploymentAssets standInAssets(Path directory) {
        try {
            Path image = Files.createDirectories(directory.resolve("populator-image"));
            Files.writeString(image.resolve("Dockerfile"), "FROM scratch\n");
            return new DeploymentAssets(jar(directory.resolve("replicator.jar")), jar(directory.resolve("status.jar")),
                    jar(directory.resolve("ops.jar")), jar(directory.resolve("verifier.jar")), image);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path jar(Path path) throws IOException {
        try (OutputStream out = Files.newOutputStream(path); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("stand-in.txt"));
            zip.write(path.getFileName().toString().getBytes());
            zip.closeEntry();
        }
        return path;
    }
}
