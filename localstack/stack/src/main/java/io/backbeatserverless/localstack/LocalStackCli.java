package io.backbeatserverless.localstack;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionStatus;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code ./localstack/up} and {@code ./localstack/status}: run the embedded stack, show a version's replication status. */
@Command(name = "localstack", mixinStandardHelpOptions = true, subcommands = {LocalStackCli.Up.class, LocalStackCli.Status.class, io.backbeatserverless.ops.cli.OpsCli.class},
        description = "The Backbeat Serverless embedded local stack.")
public final class LocalStackCli {

    public static void main(String[] args) {
        System.exit(new CommandLine(new LocalStackCli()).execute(args));
    }

    /** The configuration with dynalite on another port, when one was given. */
    static BackbeatConfig withDynamodbPort(BackbeatConfig cfg, Integer port) {
        return port == null ? cfg : cfg.withDynamodb(cfg.dynamodb().withEndpoint(cfg.dynamodb().endpoint().withPort(port)));
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Starts Kafka, the S3 servers, dynalite, the populator and the functions; Ctrl-C stops them all.")
    static final class Up implements Callable<Integer> {
        @Option(names = "--config", defaultValue = "localstack/backbeat.json", description = "configuration file (default: ${DEFAULT-VALUE})")
        Path config;
        @Option(names = "--kafka-port", description = "Kafka broker port (default: from the configuration, 9092)")
        Integer kafkaPort;
        @Option(names = "--source-port", description = "source S3 server port (default: from the configuration, 8000)")
        Integer sourcePort;
        @Option(names = "--site-port", description = "a site's S3 server port, as NAME=PORT (default: from the configuration, 8001)")
        Map<String, Integer> sitePorts = Map.of();
        @Option(names = "--dynamodb-port", description = "dynalite port (default: from the configuration, 4567)")
        Integer dynamodbPort;
        @Option(names = "--api-port", description = "ops API and console port (default: from the configuration, 8900)")
        Integer apiPort;
        @Option(names = "--s3-max-heap", defaultValue = "2g", description = "heap of each S3 server JVM: metadata, request bodies in"
                + " flight (a PUT or a part is held whole), and every object with --s3-object-bytes MEMORY (default: ${DEFAULT-VALUE})")
        String s3MaxHeap;
        @Option(names = "--s3-max-direct-memory", defaultValue = "1g", description = "direct memory of each S3 server JVM (default: ${DEFAULT-VALUE})")
        String s3MaxDirectMemory;
        @Option(names = "--s3-object-bytes", defaultValue = "DISK", description = "where the S3 servers keep object bytes: DISK (a file per"
                + " object under the temporary directory, deleted at stop; any size S3 allows) or MEMORY (on the heap) (default: ${DEFAULT-VALUE})")
        LocalS3Services.ObjectBytes s3ObjectBytes;
        @Option(names = "--functions-in-processes", description = "run the populator, the status processor and each site's replicator in JVMs"
                + " of their own, as Lambda does, so each can be killed (kill -9 <pid>, PIDs in the log) and restarted alone")
        boolean functionsInProcesses;

        @Override
        public Integer call() throws Exception {
            BackbeatConfig cfg = BackbeatConfig.load(fromCaller(config));
            if (kafkaPort != null) {
                cfg = cfg.withKafka(cfg.kafka().withBootstrapServers("127.0.0.1:" + kafkaPort));
            }
            if (sourcePort != null) {
                cfg = cfg.withSource(cfg.source().withEndpoint(cfg.source().endpoint().withPort(sourcePort)));
            }
            cfg = withDynamodbPort(cfg, dynamodbPort);
            if (apiPort != null) {
                cfg = cfg.withOps(cfg.ops().withPort(apiPort));
            }
            for (Map.Entry<String, Integer> p : sitePorts.entrySet()) {
                cfg.requireSite(p.getKey());
                cfg = cfg.withSites(s -> s.name().equals(p.getKey()) ? s.withEndpoint(s.endpoint().withPort(p.getValue())) : s);
            }
            // dynalite is the project's (localstack/node_modules), wherever the configuration file is.
            Path localstackDir = DynaliteProcess.findLocalstackDir();
            EmbeddedStack stack = EmbeddedStack.start(cfg, new EmbeddedStack.Options(localstackDir, s3MaxHeap, s3MaxDirectMemory, java.util.Set.of(), null)
                    .withFunctionsInProcesses(functionsInProcesses).withS3ObjectBytes(s3ObjectBytes));
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                System.out.println("stopping the embedded stack...");
                stack.close();
                stopped.countDown();
            }));
            System.out.println();
            System.out.println("Backbeat Serverless embedded stack is up (Ctrl-C stops it):");
            stack.endpoints().forEach(line -> System.out.println("  " + line));
            System.out.println("  credentials: " + cfg.source().endpoint().accessKeyId() + " / " + cfg.source().endpoint().secretAccessKey()
                    + ", region " + cfg.source().endpoint().region());
            System.out.println("  status of a version: ./localstack/status <bucket> <key>");
            System.out.println();
            stopped.await();
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Shows the replication status of every version of an object, per site, from the status table.")
    static final class Status implements Callable<Integer> {
        @Option(names = "--config", defaultValue = "localstack/backbeat.json", description = "configuration file (default: ${DEFAULT-VALUE})")
        Path config;
        @Option(names = "--dynamodb-port", description = "dynalite port, if the stack runs on another one")
        Integer dynamodbPort;
        @Parameters(index = "0", description = "source bucket")
        String bucket;
        @Parameters(index = "1", description = "object key")
        String key;

        @Override
        public Integer call() {
            BackbeatConfig cfg = BackbeatConfig.load(fromCaller(config));
            cfg = withDynamodbPort(cfg, dynamodbPort);
            try (DynamoDbClient dynamo = AwsClients.dynamoDb(cfg.dynamodb().endpoint())) {
                List<VersionStatus> versions = new DynamoDbReplicationStatusStore(dynamo, cfg.dynamodb().tables().status(),
                        Clock.systemUTC()).findVersions(bucket, key);
                if (versions.isEmpty()) {
                    System.out.println(bucket + "/" + key + ": no version queued for replication");
                    return 1;
                }
                for (VersionStatus v : versions) {
                    System.out.printf("%s/%s version %s (%d bytes, last modified %s): %s%n", bucket, key, v.versionId(),
                            v.size(), v.lastModified(), v.overall());
                    for (Map.Entry<String, SiteOutcome> site : new java.util.TreeMap<>(v.sites()).entrySet()) {
                        SiteOutcome o = site.getValue();
                        System.out.printf("  %-20s %-10s attempts=%d bytes=%d updated=%s%s%n", site.getKey(), o.status(),
                                o.attempts(), o.bytes(), o.updatedAt(), o.reason() == null ? "" : " reason=" + o.reason());
                    }
                }
                return 0;
            }
        }
    }

    /**
     * The configuration file as the operator named it: relative to the directory the command was run from
     * ({@code localstack/run-java} works from the project's root); the default is the project's own.
     */
    static Path fromCaller(Path config) {
        String caller = System.getenv("BACKBEAT_CALLER_DIR");
        if (config.isAbsolute() || caller == null || java.nio.file.Files.exists(config)) {
            return config;
        }
        return Path.of(caller).resolve(config);
    }
}
