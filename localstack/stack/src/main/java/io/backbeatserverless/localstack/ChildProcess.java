package io.backbeatserverless.localstack;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A server run as a child process (an S3 server JVM, dynalite under node). Its output is relayed to
 * our log with its name, its start is confirmed by a line it prints, and an unexpected exit is
 * logged loudly with its exit code: an operator must see a server die, not guess from timeouts.
 * Closing it closes its stdin (our children exit on that), then destroys it by PID.
 */
public final class ChildProcess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChildProcess.class);

    private static final Duration JUDGE_EXIT_AFTER = Duration.ofSeconds(1);
    private static volatile boolean jvmStopping;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> jvmStopping = true, "child-process-shutdown-flag"));
    }

    private final String name;
    private final Process process;
    private volatile boolean closing;
    private volatile boolean killed;
    private final java.util.Map<Predicate<String>, CompletableFuture<String>> awaited = new java.util.concurrent.ConcurrentHashMap<>();

    private ChildProcess(String name, Process process) {
        this.name = name;
        this.process = process;
    }

    public static ChildProcess start(String name, List<String> command, Predicate<String> readyLine, Duration timeout)
            throws IOException, TimeoutException, InterruptedException {
        return start(name, command, java.util.Map.of(), readyLine, timeout);
    }

    /** @param environment variables set for the child on top of ours; a null value removes the variable */
    public static ChildProcess start(String name, List<String> command, java.util.Map<String, String> environment,
                                     Predicate<String> readyLine, Duration timeout)
            throws IOException, TimeoutException, InterruptedException {
        return start(name, command, environment, readyLine, timeout, List.of());
    }

    /** @param watchers given every line of the child's output from its first (see {@link #watch}) */
    public static ChildProcess start(String name, List<String> command, java.util.Map<String, String> environment,
                                     Predicate<String> readyLine, Duration timeout, List<java.util.function.Consumer<String>> watchers)
            throws IOException, TimeoutException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        environment.forEach((variable, value) -> {
            if (value == null) {
                builder.environment().remove(variable);
            } else {
                builder.environment().put(variable, value);
            }
        });
        Process process = builder.start();
        ChildProcess child = new ChildProcess(name, process);
        child.watchers.addAll(watchers);
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name(name + "-output").start(() -> child.relayOutput(readyLine, ready));
        process.onExit().thenAccept(p -> {
            ready.completeExceptionally(new IllegalStateException(name + " exited with code " + p.exitValue() + " before it was ready"));
            // A signal to the whole process group (Ctrl-C, kill -TERM -<pgid>) reaches the child as it reaches us, so
            // its exit may come a moment before our shutdown hook closes it: judge the exit after that moment.
            CompletableFuture.delayedExecutor(JUDGE_EXIT_AFTER.toMillis(), TimeUnit.MILLISECONDS).execute(() -> child.reportExit(p));
        });
        try {
            ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            child.close();
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            child.close();
            throw new TimeoutException(name + " did not start within " + timeout);
        }
        return child;
    }

    private void reportExit(Process exited) {
        if (killed) {
            LOG.info("{} (pid {}) killed on purpose (exit code {})", name, exited.pid(), exited.exitValue());
        } else if (closing || jvmStopping) {
            LOG.info("{} (pid {}) stopped with the stack (exit code {})", name, exited.pid(), exited.exitValue());
        } else {
            LOG.error("{} (pid {}) STOPPED UNEXPECTEDLY with exit code {}; replication through it will fail until the stack restarts",
                    name, exited.pid(), exited.exitValue());
        }
    }

    private final List<java.util.function.Consumer<String>> watchers = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Hands every later line of the child's output to {@code watcher} too (a benchmark reading what a function logs). */
    public void watch(java.util.function.Consumer<String> watcher) {
        watchers.add(watcher);
    }

    /** Sends one line to the child's standard input (a command to a function process). */
    public synchronized void send(String line) throws IOException {
        var in = process.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /**
     * Sends one line and waits for the child's next output line that starts with {@code replyPrefix}; that line.
     */
    public String request(String line, String replyPrefix, Duration timeout) throws IOException, InterruptedException, TimeoutException {
        CompletableFuture<String> reply = new CompletableFuture<>();
        Predicate<String> matches = l -> l.startsWith(replyPrefix);
        awaited.put(matches, reply);
        try {
            send(line);
            return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(name + " did not answer '" + line + "'", e.getCause());
        } finally {
            awaited.remove(matches);
        }
    }

    /** SIGKILL, as a crash would, and wait for it to be gone; on purpose, so it is not reported as a failure. */
    public void kill() throws InterruptedException {
        killed = true;
        closing = true;
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    private void relayOutput(Predicate<String> readyLine, CompletableFuture<Void> ready) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!ready.isDone() && readyLine.test(line)) {
                    ready.complete(null);
                }
                for (var watcher : watchers) {
                    watcher.accept(line);
                }
                for (var waiting : awaited.entrySet()) {
                    if (waiting.getKey().test(line)) {
                        waiting.getValue().complete(line);
                    }
                }
                if (line.startsWith("CRASH at ")) {
                    killed = true; // halted on purpose at a crash point: reported as a kill, not as a failure
                    closing = true;
                    LOG.info("[{}] {}", name, line);
                } else if (line.contains("OutOfMemoryError")) {
                    LOG.error("[{}] {}", name, line);
                } else if (line.startsWith("MEMORY") || line.startsWith("FAULTS") || line.startsWith("UNAVAILABLE") || line.equals("AVAILABLE")) {
                    LOG.info("[{}] {}", name, line); // routine: once a minute, for an operator watching a long run
                } else if (System.getenv("BACKBEAT_DEBUG_CHILDREN") != null) {
                    LOG.info("[{}] {}", name, line); // every line of every child, for a developer chasing a stall
                } else {
                    LOG.debug("[{}] {}", name, line);
                }
            }
        } catch (IOException ignored) {
            // process ended
        }
    }

    @Override
    public void close() {
        closing = true;
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // already closed
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
