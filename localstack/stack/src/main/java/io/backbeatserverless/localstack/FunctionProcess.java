package io.backbeatserverless.localstack;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A function of the pipeline ({@link LocalFunctionMain}) in its own JVM, which can be killed (SIGKILL, as a Lambda
 * instance dies on a timeout or a redeploy) and started again while Kafka, the S3 servers and dynalite keep their
 * data. A site's pause or resume is passed on to the replicator in it, and survives a restart.
 */
public final class FunctionProcess implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FunctionProcess.class);

    private final String name;
    private final List<String> command;
    private final Map<String, String> environment;
    private ChildProcess child;
    private boolean enabled = true;

    private FunctionProcess(String name, List<String> command, Map<String, String> environment) {
        this.name = name;
        this.command = command;
        this.environment = environment;
    }

    /** @param site the site of a replicator; null for the populator and the status processor */
    static FunctionProcess start(String function, String site, Path configFile) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String heap = function.equals("populator") ? System.getProperty(POPULATOR_MAX_HEAP_PROPERTY, "384m") : "384m";
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError"));
        String gcLogs = System.getProperty(GC_LOG_DIRECTORY_PROPERTY);
        if (gcLogs != null) {
            command.add("-Xlog:gc:file=" + Path.of(gcLogs, (site == null ? function : function + "-" + site) + "-gc.log"));
        }
        command.addAll(jitFlags(function));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LocalFunctionMain.class.getName(), function, configFile.toString()));
        if (site != null) {
            command.add(site);
        }
        FunctionProcess process = new FunctionProcess(site == null ? function : function + "-" + site, command, Map.of());
        process.restart();
        return process;
    }

    /**
     * A deployed function ({@link LambdaRuntimeStandIn}) in a JVM of its own, with exactly the environment AWS would
     * give it: {@code environment} replaces every {@code AWS_*} variable of this JVM's (a developer's own keys or profile
     * must not reach a function that is meant to run with its role's credentials alone).
     *
     * @param lambda true for a Lambda function (C1 only, as Lambda's java21 runtime), false for a container
     * @param output  every line the function prints, from its first
     */
    public static FunctionProcess startDeployed(String name, List<String> trigger, Map<String, String> environment, boolean lambda,
                                                java.util.function.Consumer<String> output) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx384m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError"));
        command.addAll(jitFlags(lambda ? "deployed" : "populator"));
        command.addAll(LambdaRuntimeStandIn.command(trigger));
        Map<String, String> clean = new HashMap<>();
        System.getenv().keySet().stream().filter(variable -> variable.startsWith("AWS_")).forEach(variable -> clean.put(variable, null));
        clean.putAll(environment);
        FunctionProcess process = new FunctionProcess(name, command, clean);
        process.watchers.add(output);
        process.restart();
        return process;
    }

    /** System property: the populator process's maximum heap ({@code -Xmx}; 384m by default), for a benchmark that bounds it. */
    public static final String POPULATOR_MAX_HEAP_PROPERTY = "backbeat.populatorMaxHeap";
    /** System property: a directory where each function process writes its GC log ({@code <name>-gc.log}); none by default. */
    public static final String GC_LOG_DIRECTORY_PROPERTY = "backbeat.gcLogDirectory";

    /** System property naming the JIT of the Lambda functions' processes: {@code c1} (the default) or {@code c2}. */
    public static final String LAMBDA_JIT_PROPERTY = "backbeat.lambdaJit";

    /**
     * The replicator and the status processor run as Lambda's java21 runtime runs them: C1 only ({@code TieredStopAtLevel=1},
     * the runtime's default), unless {@value #LAMBDA_JIT_PROPERTY} is {@code c2} (a benchmark comparing the two). The
     * populator is a long-running container: the JVM's defaults (C2).
     */
    static List<String> jitFlags(String function) {
        boolean lambda = !function.equals("populator");
        return lambda && !"c2".equals(System.getProperty(LAMBDA_JIT_PROPERTY, "c1"))
                ? List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1") : List.of();
    }

    public String name() {
        return name;
    }

    /** Starts it again (after {@link #kill()}): it resumes from the committed offsets and saved checkpoints. */
    public synchronized void restart() throws Exception {
        restart(Map.of());
    }

    /**
     * Starts it again armed to die at a crash point ({@link io.backbeatserverless.core.crash.CrashPoints}): {@code point}
     * or {@code point:n}, e.g. {@code replicas-written}. It halts there as a SIGKILL would; {@link #isAlive()} then says
     * false, and {@link #restart()} starts it unarmed.
     */
    public synchronized void restartArmed(String crashAt) throws Exception {
        io.backbeatserverless.core.crash.CrashPoints.Arming.parse(crashAt); // a bad point fails here, not in the child
        restart(Map.of(io.backbeatserverless.core.crash.CrashPoints.VARIABLE, crashAt));
    }

    private void restart(Map<String, String> environment) throws Exception {
        if (child != null && child.isAlive()) {
            throw new IllegalStateException(name + " is running (pid " + child.pid() + ")");
        }
        Map<String, String> all = new HashMap<>(this.environment);
        all.putAll(environment);
        child = ChildProcess.start(name, command, all, "READY"::equals, Duration.ofSeconds(60), watchers);
        LOG.info("function {} runs in pid {}", name, child.pid());
        if (!enabled) {
            child.send("disable");
        }
    }

    private final List<java.util.function.Consumer<String>> watchers = new java.util.concurrent.CopyOnWriteArrayList<>(List.of(
            this::relayWarnings));

    /** A function's warnings and errors reach the stack's log (its other lines stay at DEBUG): a stalled run says why. */
    private void relayWarnings(String line) {
        if (line.contains(" WARN ") || line.contains(" ERROR ")) {
            LOG.info("[{}] {}", name, line);
        }
    }

    /** Hands every line the function logs to {@code watcher}, across restarts. */
    public synchronized void watch(java.util.function.Consumer<String> watcher) {
        watchers.add(watcher);
        if (child != null) {
            child.watch(watcher);
        }
    }

    /** SIGKILL: whatever it was doing is cut short, as a crash would. */
    public synchronized void kill() throws InterruptedException {
        LOG.info("function {} (pid {}) killed (SIGKILL)", name, child.pid());
        child.kill();
    }

    public synchronized long pid() {
        return child.pid();
    }

    public synchronized boolean isAlive() {
        return child != null && child.isAlive();
    }

    public synchronized void setEnabled(boolean on) {
        enabled = on;
        if (isAlive()) {
            try {
                child.send(on ? "enable" : "disable");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(name + " did not take the command", e);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (child != null) {
            child.close();
        }
    }
}
