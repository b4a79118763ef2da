package io.backbeatserverless.localstack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * dynalite (npm {@code dynalite} 4.0.0, a DynamoDB-compatible server, in memory) run by node from
 * {@code localstack/dynalite-server.js}. Its packages come from {@code npm ci} in {@code localstack/}.
 */
final class DynaliteProcess {

    private DynaliteProcess() {
    }

    static ChildProcess start(Path localstackDir, String host, int port) throws Exception {
        Path script = localstackDir.resolve("dynalite-server.js");
        if (!Files.isDirectory(localstackDir.resolve("node_modules").resolve("dynalite"))) {
            throw new IllegalStateException("dynalite is not installed: run `npm ci --prefix " + localstackDir + "` (Node 20+)");
        }
        return ChildProcess.start("dynalite (DynamoDB on " + host + ":" + port + ")",
                List.of("node", script.toString(), Integer.toString(port), host),
                line -> line.startsWith("READY "), Duration.ofSeconds(30));
    }

    /** Finds the {@code localstack/} directory from the working directory or one of its parents. */
    static Path findLocalstackDir() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("localstack");
            if (Files.exists(candidate.resolve("dynalite-server.js"))) {
                return candidate;
            }
            if (Files.exists(dir.resolve("dynalite-server.js"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("cannot find localstack/dynalite-server.js from " + Path.of("").toAbsolutePath());
    }
}
