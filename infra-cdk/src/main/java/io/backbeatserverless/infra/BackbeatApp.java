package io.backbeatserverless.infra;

import io.github.cdklabs.cdknag.AwsSolutionsChecks;
import io.github.cdklabs.cdknag.NagPackProps;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Aspects;
import software.amazon.awscdk.StackProps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The CDK app ({@code cdk.json} runs it from {@code infra-cdk/}). Context values, all optional:
 * {@code deployment} (the deployment file, default {@code deployment.example.json}), {@code stackName}
 * (default {@code BackbeatServerless}), {@code repositoryRoot} (where {@code functions/*}/target/lambda.jar
 * are, default {@code ..}). cdk-nag's AWS Solutions checks run on every synth.
 */
public final class BackbeatApp {

    private BackbeatApp() {
    }

    public static void main(String[] args) {
        App app = new App();
        Path deploymentFile = Path.of(context(app, "deployment", "deployment.example.json"));
        Path repositoryRoot = Path.of(context(app, "repositoryRoot", ".."));
        DeploymentConfig deployment = DeploymentConfig.load(deploymentFile);
        Path imageContext = populatorImageContext(repositoryRoot.resolve("functions/populator/target/lambda.jar"),
                Path.of("populator-image/Dockerfile"), Path.of("target/populator-image"));
        new BackbeatStack(app, context(app, "stackName", "BackbeatServerless"), StackProps.builder()
                .description("Backbeat Serverless: S3 replication on MSK, Lambda and DynamoDB (" + deploymentFile.getFileName() + ")")
                .build(), deployment, DeploymentAssets.builtIn(repositoryRoot, imageContext));
        Aspects.of(app).add(new AwsSolutionsChecks(NagPackProps.builder().verbose(true).build()));
        app.synth();
    }

    private static String context(App app, String key, String fallback) {
        Object value = app.getNode().tryGetContext(key);
        return value == null ? fallback : value.toString();
    }

    /**
     * The Docker build context of the populator image: its Dockerfile and the populator jar side by side
     * (a build context cannot reach outside its directory). CDK only stages it at synth; the CLI builds it
     * at deploy time.
     */
    static Path populatorImageContext(Path populatorJar, Path dockerfile, Path into) {
        if (!Files.isRegularFile(populatorJar)) {
            throw new IllegalArgumentException(populatorJar + " is missing: run ./mvnw package first");
        }
        try {
            Files.createDirectories(into);
            Files.copy(dockerfile, into.resolve("Dockerfile"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(populatorJar, into.resolve("populator.jar"), StandardCopyOption.REPLACE_EXISTING);
            return into;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot assemble the populator image context in " + into, e);
        }
    }
}
