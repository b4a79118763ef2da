package io.backbeatserverless.localstack;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.Endpoint;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.adapters.dynamodb.TableSchemas;
import io.backbeatserverless.ops.OpsHttpServer;
import io.backbeatserverless.ops.OpsRuntime;
import io.backbeatserverless.ops.SigV4Verifier;
import io.backbeatserverless.populator.PopulatorMain;
import io.backbeatserverless.replicator.BatchReplicator;
import io.backbeatserverless.status.StatusRecorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * The embedded local stack: real servers (a Kafka broker in KRaft mode in this JVM, one
 * S3-compatible server JVM for the source and one per destination endpoint, dynalite under node),
 * the project's topics, tables and destination buckets, then the populator and, behind
 * {@link EventSourceRunner}s, the real Lambda handlers: the status processor and one replicator per site.
 * Everything listens on 127.0.0.1. {@link #close()} stops it all, children by PID.
 */
public final class EmbeddedStack implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStack.class);
    private static final String HOST = "127.0.0.1";

    private final BackbeatConfig config;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final Map<String, EventSourceRunner> replicatorRunners = new LinkedHashMap<>();
    private final Map<String, ChildProcess> servers = new LinkedHashMap<>();
    private Options options;
    private volatile EmbeddedKafka kafka;
    private final Map<String, FunctionProcess> functions = new java.util.concurrent.ConcurrentHashMap<>();
    private EventSourceRunner statusRunner;
    private PopulatorMain.Running populator;
    private OpsRuntime ops;

    private EmbeddedStack(BackbeatConfig config) {
        this.config = config;
    }

    /**
     * Sizes of the S3 server JVMs (local-s3 keeps every object on its heap), and the sites whose
     * endpoint is served by someone else (the stack starts no server for them).
     */
    public record Options(Path localstackDir, String s3MaxHeap, String s3MaxDirectMemory, java.util.Set<String> externalSites,
                          Clock clock, boolean functionsInProcesses, LocalS3Services.ObjectBytes s3ObjectBytes) {
        public Options {
            externalSites = java.util.Set.copyOf(externalSites);
            clock = clock == null ? Clock.systemUTC() : clock;
            s3ObjectBytes = s3ObjectBytes == null ? LocalS3Services.ObjectBytes.DISK : s3ObjectBytes;
        }

        public Options(Path localstackDir, String s3MaxHeap, String s3MaxDirectMemory, java.util.Set<String> externalSites, Clock clock) {
            this(localstackDir, s3MaxHeap, s3MaxDirectMemory, externalSites, clock, false, null);
        }

        /**
         * The populator, the status processor and each site's replicator in JVMs of their own ({@link FunctionProcess}),
         * each killable and restartable alone, as Lambda runs them; by default they run in the stack's JVM.
         */
        public Options withFunctionsInProcesses(boolean inProcesses) {
            return new Options(localstackDir, s3MaxHeap, s3MaxDirectMemory, externalSites, clock, inProcesses, s3ObjectBytes);
        }

        /** Where the stack's S3 servers keep object bytes ({@link LocalS3Services}); on disk by default. */
        public Options withS3ObjectBytes(LocalS3Services.ObjectBytes objectBytes) {
            return new Options(localstackDir, s3MaxHeap, s3MaxDirectMemory, externalSites, clock, functionsInProcesses, objectBytes);
        }

        public static Options defaults() {
            return new Options(DynaliteProcess.findLocalstackDir(), "2g", "1g", java.util.Set.of(), Clock.systemUTC());
        }
    }

    public static EmbeddedStack start(BackbeatConfig config, Options options) throws Exception {
        EmbeddedStack stack = new EmbeddedStack(config);
        try {
            stack.startAll(options);
            return stack;
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }
    }

    /** The same configuration with every local server on a free port: for tests that share a machine. */
    public static BackbeatConfig onFreePorts(BackbeatConfig config) throws Exception {
        Map<Integer, Integer> remapped = new LinkedHashMap<>();
        java.util.function.IntUnaryOperator port = p -> remapped.computeIfAbsent(p, ignored -> {
            try {
                return EmbeddedKafka.freePort();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return config
                .withKafka(config.kafka().withBootstrapServers(HOST + ":" + port.applyAsInt(kafkaPort(config))))
                .withSource(config.source().withEndpoint(config.source().endpoint().withPort(port.applyAsInt(config.source().endpoint().port())))
                        .withFeed(localFeedOnFreePort(config.source().feed(), port)))
                // Someone else's servers keep their ports.
                .withSites(s -> s.external() ? s : s.withEndpoint(s.endpoint().withPort(port.applyAsInt(s.endpoint().port()))))
                .withDynamodb(config.dynamodb().withEndpoint(config.dynamodb().endpoint().withPort(port.applyAsInt(config.dynamodb().endpoint().port()))))
                .withOps(config.ops().withPort(port.applyAsInt(config.ops().port())));
    }

    /** The S3-events feed on a queue of this machine: the stack serves that queue itself. */
    private static boolean isLocalEventQueue(BackbeatConfig.FeedSettings feed) {
        if (!BackbeatConfig.FeedSettings.S3_EVENTS_SQS.equals(feed.type())) {
            return false;
        }
        String host = java.net.URI.create(feed.url()).getHost();
        return HOST.equals(host) || "localhost".equals(host);
    }

    /** A local S3-events queue URL moves to a free port too; other feeds are someone else's servers. */
    private static BackbeatConfig.FeedSettings localFeedOnFreePort(BackbeatConfig.FeedSettings feed, java.util.function.IntUnaryOperator port) {
        if (!isLocalEventQueue(feed)) {
            return feed;
        }
        java.net.URI url = java.net.URI.create(feed.url());
        String moved = url.getScheme() + "://" + url.getHost() + ":" + port.applyAsInt(url.getPort()) + url.getPath();
        return new BackbeatConfig.FeedSettings(feed.type(), feed.intervalMs(), moved, feed.logName(), feed.raftSession(), feed.batchSize());
    }

    private void startAll(Options options) throws Exception {
        this.options = options;
        long t0 = System.nanoTime();
        // Child servers boot in parallel with the in-process broker.
        Map<Integer, String> s3Ports = new LinkedHashMap<>();
        // A CloudServer source is the operator's own server: the stack starts no source server then.
        if (!BackbeatConfig.SourceConfig.TYPE_CLOUDSERVER.equals(config.source().type())) {
            s3Ports.put(config.source().endpoint().port(), "source");
        }
        for (SiteConfig site : config.sites()) {
            if (!site.external() && !options.externalSites().contains(site.name())) {
                s3Ports.merge(site.endpoint().port(), "site-" + site.name(), (a, b) -> a + "+" + b);
            }
        }
        List<CompletableFuture<Void>> children = new ArrayList<>();
        var launcher = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        String eventQueue = startLocalEventQueue();
        int sourcePort = config.source().endpoint().port();
        s3Ports.forEach((port, name) -> children.add(CompletableFuture.runAsync(() -> startServer(name,
                () -> S3ServerProcess.start(name, HOST, port, options.s3MaxHeap(), options.s3MaxDirectMemory(),
                        options.s3ObjectBytes(), port == sourcePort ? eventQueue : null)), launcher)));
        children.add(CompletableFuture.runAsync(() -> startServer("dynamodb",
                () -> DynaliteProcess.start(options.localstackDir(), HOST, config.dynamodb().endpoint().port())), launcher));
        launcher.shutdown();

        EmbeddedKafka kafka = EmbeddedKafka.start(HOST, kafkaPort(config));
        this.kafka = kafka;
        started.push(kafka);
        Map<String, Integer> topics = new LinkedHashMap<>();
        topics.put(config.kafka().replicationTopic(), config.kafka().partitions());
        topics.put(config.kafka().statusTopic(), config.kafka().partitions());
        kafka.createTopics(topics);
        CompletableFuture.allOf(children.toArray(CompletableFuture[]::new)).join();

        try (DynamoDbClient dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint())) {
            TableSchemas.createMissing(dynamo, config.dynamodb().tables(), Duration.ofSeconds(30));
        }
        for (SiteConfig site : config.sites()) {
            if (site.bucket() != null) {
                createVersionedBucket(site.endpoint(), site.bucket());
            }
        }

        Clock clock = Clock.systemUTC();
        if (options.functionsInProcesses()) {
            startFunctionProcesses();
        } else {
            StatusRecorder recorder = StatusRecorder.create(config, clock);
            started.push(recorder);
            statusRunner = LocalFunctionMain.statusRunner(config, kafka.bootstrapServers(), recorder).start();
            started.push(statusRunner);
            for (SiteConfig site : config.sites()) {
                BatchReplicator replicator = BatchReplicator.create(config, site.name(), clock);
                started.push(replicator);
                EventSourceRunner runner = LocalFunctionMain.replicatorRunner(config, kafka.bootstrapServers(), site, replicator).start();
                started.push(runner);
                replicatorRunners.put(site.name(), runner);
            }
            populator = PopulatorMain.start(config, clock);
            started.push(populator);
        }

        ops = OpsRuntime.create(config, (site, enabled) -> {
            EventSourceRunner runner = replicatorRunners.get(site);
            if (runner != null) {
                runner.setEnabled(enabled);
            }
            FunctionProcess process = functions.get("replicator-" + site);
            if (process != null) {
                process.setEnabled(enabled);
            }
        }, options.clock());
        started.push(ops);
        ops.service().applyStoredStates();
        started.push(new OpsHttpServer(HOST, config.ops().port(), ops.api(), new SigV4Verifier(config.ops().credentials(), Clock.systemUTC(),
                SigV4Verifier.EXECUTE_API, config.ops().region())));
        // What the stack's minute tick does in AWS (an EventBridge Scheduler schedule), here on a thread of its own: scheduled
        // resumes every second, transient failures whose automatic retry is due (issue 31) every 5 s, and each site's
        // backlog as S3's pending metrics every minute.
        var scheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("resume-scheduler").unstarted(r));
        every(scheduler, 1, "scheduled resumes", () -> ops.service().fireDueResumes());
        every(scheduler, 5, "automatic retries", () -> ops.service().retryDueFailures());
        every(scheduler, 60, "backlog metrics", () -> ops.service().reportBacklog());
        started.push(scheduler::shutdownNow);
        startVerifyWorker(clock);
        LOG.info("embedded stack ready in {} ms", (System.nanoTime() - t0) / 1_000_000);
    }

    private static void every(java.util.concurrent.ScheduledExecutorService scheduler, long seconds, String what, Runnable task) {
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.warn("{}: {}", what, e.toString());
            }
        }, seconds, seconds, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * Verify runs are walked here locally (a scheduled verifier function does it in AWS): a thread that works on
     * unfinished runs, woken at once when the ops API starts one, else once a second.
     */
    private void startVerifyWorker(Clock clock) {
        io.backbeatserverless.verifier.Verifier verifier = io.backbeatserverless.verifier.Verifier.create(config, clock);
        started.push(verifier);
        var worker = verifier.worker("local-stack-" + ProcessHandle.current().pid());
        java.util.concurrent.Semaphore wake = new java.util.concurrent.Semaphore(0);
        ops.service().onVerifyStarted(wake::release);
        Thread thread = Thread.ofPlatform().daemon().name("verify-worker").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    worker.work(Duration.ofSeconds(30));
                    if (wake.tryAcquire(1, java.util.concurrent.TimeUnit.SECONDS)) {
                        wake.drainPermits();
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.warn("verify worker: {}", e.toString());
                }
            }
        });
        started.push(() -> {
            thread.interrupt();
            thread.join(Duration.ofSeconds(10));
        });
    }

    /**
     * The S3-events feed on a local queue URL: an SQS server (ElasticMQ, in this JVM) on that URL's port
     * with the queue, which the source server sends its event notifications to. Null for other feeds.
     */
    private String startLocalEventQueue() {
        BackbeatConfig.FeedSettings feed = config.source().feed();
        if (!isLocalEventQueue(feed)) {
            return null; // another feed, or a real queue (AWS, LocalStack) whose notifications are configured there
        }
        java.net.URI queue = java.net.URI.create(feed.url());
        var sqsServer = org.elasticmq.rest.sqs.SQSRestServerBuilder.withInterface(HOST).withPort(queue.getPort()).start();
        sqsServer.waitUntilStarted();
        started.push(sqsServer::stopAndWait);
        String name = queue.getPath().substring(queue.getPath().lastIndexOf('/') + 1);
        try (var sqs = io.backbeatserverless.adapters.aws.SqsQueues.client(feed.url(), config.source().endpoint())) {
            // As the stack's queue: a dead-letter queue behind it, after 5 receives (ops source-events redrive sends its
            // messages back). A message the populator leaves (its bucket's configuration is invalid) comes back after 10 s here.
            String deadLettersUrl = sqs.createQueue(r -> r.queueName(name + "-dead-letters")).queueUrl();
            String deadLettersArn = sqs.getQueueAttributes(r -> r.queueUrl(deadLettersUrl)
                    .attributeNames(software.amazon.awssdk.services.sqs.model.QueueAttributeName.QUEUE_ARN)).attributesAsStrings().get("QueueArn");
            sqs.createQueue(r -> r.queueName(name).attributes(java.util.Map.of(
                    software.amazon.awssdk.services.sqs.model.QueueAttributeName.VISIBILITY_TIMEOUT, "10",
                    software.amazon.awssdk.services.sqs.model.QueueAttributeName.REDRIVE_POLICY,
                    "{\"deadLetterTargetArn\":\"" + deadLettersArn + "\",\"maxReceiveCount\":\"5\"}")));
        }
        LOG.info("SQS server (ElasticMQ) on {}:{} with queue {}: the source server sends its S3 event notifications there",
                HOST, queue.getPort(), name);
        return feed.url();
    }

    /** Each function in a JVM of its own, all reading the same effective configuration (written to a file they share). */
    private void startFunctionProcesses() throws Exception {
        Path configFile = java.nio.file.Files.createTempFile("backbeat-functions", ".json");
        java.nio.file.Files.writeString(configFile, config.toJson());
        started.push(() -> java.nio.file.Files.deleteIfExists(configFile));
        List<CompletableFuture<FunctionProcess>> starting = new ArrayList<>();
        var launcher = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        starting.add(CompletableFuture.supplyAsync(() -> startFunction("status", null, configFile), launcher));
        for (SiteConfig site : config.sites()) {
            starting.add(CompletableFuture.supplyAsync(() -> startFunction("replicator", site.name(), configFile), launcher));
        }
        starting.add(CompletableFuture.supplyAsync(() -> startFunction("populator", null, configFile), launcher));
        launcher.shutdown();
        for (CompletableFuture<FunctionProcess> f : starting) {
            FunctionProcess process = f.join();
            started.push(process);
            functions.put(process.name(), process);
        }
        LOG.info("functions in processes of their own: {}", functions.keySet());
    }

    private static FunctionProcess startFunction(String function, String site, Path configFile) {
        try {
            return FunctionProcess.start(function, site, configFile);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start " + function + (site == null ? "" : " of " + site) + ": " + e.getMessage(), e);
        }
    }

    /**
     * A function running in a process of its own ({@link Options#withFunctionsInProcesses}): {@code populator},
     * {@code status} or {@code replicator-<site>}.
     */
    public FunctionProcess function(String name) {
        FunctionProcess process = functions.get(name);
        if (process == null) {
            throw new IllegalArgumentException("no function process '" + name + "' (running: " + functions.keySet() + ")");
        }
        return process;
    }

    private interface ServerStart {
        ChildProcess start() throws Exception;
    }

    private void startServer(String name, ServerStart start) {
        try {
            ChildProcess child = start.start();
            synchronized (started) {
                started.push(child);
                servers.put(name, child);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    private static void createVersionedBucket(Endpoint endpoint, String bucket) {
        try (S3Client s3 = AwsClients.s3(endpoint, 2)) {
            try {
                s3.createBucket(r -> r.bucket(bucket));
            } catch (S3Exception e) {
                if (e.statusCode() != 409) {
                    throw e;
                }
            }
            s3.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        }
    }

    private static int kafkaPort(BackbeatConfig config) {
        String first = config.kafka().bootstrapServers().split(",")[0];
        return Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
    }

    public BackbeatConfig config() {
        return config;
    }

    public EventSourceRunner replicatorRunner(String site) {
        return replicatorRunners.get(site);
    }

    /** Stops the populator and starts a new one, as a container restart would: it resumes from its checkpoint. */
    public synchronized void restartPopulator() {
        synchronized (started) {
            started.remove(populator);
        }
        populator.close();
        populator = PopulatorMain.start(config, Clock.systemUTC());
        synchronized (started) {
            started.push(populator);
        }
    }

    /** The populator running now (a restart replaces it). */
    public PopulatorMain.Running populator() {
        return populator;
    }

    public OpsRuntime ops() {
        return ops;
    }

    public EventSourceRunner statusRunner() {
        return statusRunner;
    }

    /**
     * Makes the S3 server serving the given site (or "source") misbehave from now on, as described by a {@link FaultInjector}
     * plan such as {@code "503=10 reset=5 seed=7"}; {@code "off"} stops the faults. The server logs what it injected
     * ({@code FAULTS ...} lines) and its totals when it stops.
     *
     * @return the server's account of what it injected so far under the previous plan, and the new plan
     */
    public String injectS3Faults(String siteOrSource, String plan) throws Exception {
        FaultInjector.Plan.parse(plan); // a bad plan fails here, in the caller's thread, not in the server's log
        String wanted = siteOrSource.equals("source") ? "source" : "site-" + siteOrSource;
        ChildProcess server;
        synchronized (started) {
            server = servers.entrySet().stream().filter(e -> java.util.Arrays.asList(e.getKey().split("\\+")).contains(wanted))
                    .map(Map.Entry::getValue).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("the stack runs no S3 server for " + siteOrSource + ": " + servers.keySet()));
        }
        return server.request("faults " + plan, "FAULTS", Duration.ofSeconds(10));
    }

    /**
     * Makes dynalite unavailable for a while, its tables kept: open connections are reset, and so is every new one
     * until the time is up (an outage as clients see one). Returns at once.
     */
    public void makeDynamoDbUnavailable(Duration outage) throws Exception {
        ChildProcess dynalite;
        synchronized (started) {
            dynalite = servers.get("dynamodb");
        }
        if (dynalite == null) {
            throw new IllegalStateException("the stack runs no dynalite");
        }
        dynalite.request("unavailable " + outage.toMillis(), "UNAVAILABLE", Duration.ofSeconds(10));
    }

    /** Restarts the Kafka broker on its log directory (see {@link EmbeddedKafka#restart()}); producers and consumers reconnect. */
    public void restartKafka() {
        kafka.restart();
    }

    /** The server processes the stack started (S3 servers, dynalite), by name, with their PIDs. */
    /**
     * Stops the S3 server of {@code site} and starts it again, empty (its objects are held in its memory), with the
     * buckets of the sites it serves created again, versioned: a benchmark's fresh site for each copier it compares, whose
     * objects would otherwise pile up in one server's heap. The server is cold again (its JIT, its pools).
     */
    public void restartSiteServer(String site) {
        SiteConfig restarted = config.requireSite(site);
        if (restarted.endpoint().port() == config.source().endpoint().port()) {
            throw new IllegalArgumentException("site " + site + " is served by the source's S3 server: restarting it would empty the source");
        }
        String name;
        ChildProcess old;
        synchronized (started) {
            name = servers.keySet().stream().filter(n -> java.util.Arrays.asList(n.split("\\+")).contains("site-" + site)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("site " + site + " has no S3 server of this stack"));
            old = servers.remove(name);
            started.remove(old);
        }
        old.close();
        startServer(name, () -> S3ServerProcess.start(name, HOST, restarted.endpoint().port(), options.s3MaxHeap(), options.s3MaxDirectMemory(),
                options.s3ObjectBytes(), null));
        for (SiteConfig served : config.sites()) {
            if (served.endpoint().port() == restarted.endpoint().port() && served.bucket() != null) {
                createVersionedBucket(served.endpoint(), served.bucket());
            }
        }
    }

    public Map<String, Long> serverPids() {
        Map<String, Long> pids = new LinkedHashMap<>();
        synchronized (started) {
            servers.forEach((name, child) -> pids.put(name, child.pid()));
        }
        return pids;
    }

    /** The pid of each function running in a process of its own ({@link Options#withFunctionsInProcesses}), by its name. */
    public Map<String, Long> functionPids() {
        Map<String, Long> pids = new java.util.TreeMap<>();
        functions.forEach((name, process) -> pids.put(name, process.pid()));
        return pids;
    }

    /** What an operator needs to reach each part, one line each. */
    public List<String> endpoints() {
        List<String> lines = new ArrayList<>();
        lines.add("Kafka broker (KRaft)        " + config.kafka().bootstrapServers() + "  topics "
                + config.kafka().replicationTopic() + ", " + config.kafka().statusTopic());
        lines.add("source " + String.format("%-20s", config.source().type()) + " " + config.source().endpoint().url() + "  ("
                + config.source().endpoint().accessKeyId() + "), feed " + config.source().feed().type()
                + (config.source().feed().url() == null ? "" : " at " + config.source().feed().url()));
        for (SiteConfig site : config.sites()) {
            lines.add(String.format("site %-22s %s  bucket %s, bucketMatch %s, consumer group %s", site.name(),
                    site.endpoint().url(), site.bucket() == null ? "(rule's Destination.Bucket)" : site.bucket(),
                    site.bucketMatch(), site.consumerGroup()));
        }
        lines.add("DynamoDB (dynalite)         " + config.dynamodb().endpoint().url() + "  tables "
                + String.join(", ", new TreeSet<>(config.dynamodb().tables().all())));
        lines.add("ops API and console         http://127.0.0.1:" + config.ops().port() + "/console  (SigV4, service execute-api)");
        servers.forEach((name, child) -> lines.add(String.format("  %-25s pid %d", name, child.pid())));
        return lines;
    }

    @Override
    public void close() {
        while (!started.isEmpty()) {
            AutoCloseable next;
            synchronized (started) {
                next = started.pop();
            }
            try {
                next.close();
            } catch (Exception e) {
                LOG.warn("stopping {} failed: {}", next, e.toString());
            }
        }
    }
}
