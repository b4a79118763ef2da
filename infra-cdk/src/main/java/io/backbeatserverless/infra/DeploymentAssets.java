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

    /**
     * Tiny jars and an image context in {@code directory}, enough for CDK to stage them: for tests that synthesize the
     * stack without the built packages (the template's checks, and the as-deployed suite, whose functions run from its
     * class path).
     */
    public static DeploymentAssets standIns(Path directory) {
        try {
            Path image = Files.createDirectories(directory.resolve("populator-image"));
            Files.writeString(image.resolve("Dockerfile"), "FROM scratch\n");
            return new DeploymentAssets(standInJar(directory.resolve("replicator.jar")), standInJar(directory.resolve("status.jar")),
                    standInJar(directory.resolve("ops.jar")), standInJar(directory.resolve("verifier.jar")), image);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path standInJar(Path path) throws java.io.IOException {
        try (var out = Files.newOutputStream(path); var zip = new java.util.zip.ZipOutputStream(out)) {
            zip.putNextEntry(new java.util.zip.ZipEntry("stand-in.txt"));
            zip.write(path.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        return path;
    }

    /** The packages as {@code ./mvnw package} leaves them under the repository root. */
    public static DeploymentAssets builtIn(Path repositoryRoot, Path populatorImageContext) {
        Path functions = repositoryRoot.resolve("functions");
        return new DeploymentAssets(functions.resolve("replicator/target/lambda.jar"),
                functions.resolve("status/target/lambda.jar"), functions.resolve("ops/target/lambda.jar"),
                functions.resolve("verifier/target/lambda.jar"), populatorImageContext);
    }
}
