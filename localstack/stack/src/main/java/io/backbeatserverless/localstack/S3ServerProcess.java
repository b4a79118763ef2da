package io.backbeatserverless.localstack;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a {@link LoopbackS3Server} in its own JVM. Separate JVMs keep local-s3's heap use (request bodies
 * held whole, and every object with {@code ObjectBytes.MEMORY}) away from Kafka and the functions, let each
 * server be sized for its work ({@code -Xmx}, {@code -XX:MaxDirectMemorySize}), exit on out-of-memory so
 * the stack reports it, and let a test kill or misbehave one server alone.
 */
public final class S3ServerProcess {

    private S3ServerProcess() {
    }

    /** @param eventQueueUrl an SQS queue the server sends S3 event notifications to, or null for none */
    public static ChildProcess start(String name, String host, int port, String maxHeap, String maxDirectMemory,
                                     LocalS3Services.ObjectBytes objectBytes, String eventQueueUrl) throws Exception {

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(),
                "-Xmx" + maxHeap, "-XX:MaxDirectMemorySize=" + maxDirectMemory,
                "-XX:+UseParallelGC", "-XX:+ExitOnOutOfMemoryError",
                "-Dio.netty.leakDetection.level=disabled",
                "-cp", System.getProperty("java.class.path"),
                LoopbackS3Server.class.getName(), "--port", Integer.toString(port), "--host", host, "--name", name,
                "--object-bytes", objectBytes.name()));
        if (eventQueueUrl != null) {
            command.addAll(List.of("--event-queue-url", eventQueueUrl));
        }
        return ChildProcess.start(name + " (S3 on " + host + ":" + port + ")", command,
                line -> line.startsWith("READY "), Duration.ofSeconds(60));
    }
}
