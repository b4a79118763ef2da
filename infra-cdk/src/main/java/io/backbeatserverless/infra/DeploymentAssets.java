package io.backbeatserverless.infra;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the deployable artifacts are: the functions' deployment packages ({@code ./mvnw package}
 * builds them as {@code functions/<name>/target/lambda.jar}) and the populator's Docker build context
 * (a Dockerfile and the populator's jar). Tests point these at small stand-ins.
 */
public record DeploymentAssets(Path replicatorJar, Path statusJar, Path opsJar, Path verifierJar, Path populatorImageContext) {

    public DeploymentAssets {
        for (Path path : new Path[]{replicatorJar, statusJar, opsJar, verifierJar}) {
            if (!Files.isRegularFile(path)) {
                throw new IllegalArgumentException("deployment package " + path + " is missing: run ./mvnw package first");
            }
        }
        if (!Files.isRegularFile(populatorImageContext.resolve("Dockerfile"))) {
            throw new IllegalArgumentException("populator image context " + populatorImageContext + " has no Dockerfile");
        }
    }

    /** The packages as {@code ./mvnw package} leaves them under the repository root. */
    public static DeploymentAssets builtIn(Path repositoryRoot, Path populatorImageContext) {
        Path functions = repositoryRoot.resolve("functions");
        return new DeploymentAssets(functions.resolve("replicator/target/lambda.jar"),
                functions.resolve("status/target/lambda.jar"), functions.resolve("ops/target/lambda.jar"),
                functions.resolve("verifier/target/lambda.jar"), populatorImageContext);
    }
}
