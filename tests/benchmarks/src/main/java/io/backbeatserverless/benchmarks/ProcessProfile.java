package io.backbeatserverless.benchmarks;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A JFR recording of another JVM (one of the stack's function processes), started and stopped with {@code jcmd}, and
 * what its execution samples say: the methods on top of the stack most often (where the CPU goes) and, for each sample,
 * the first frame outside the JDK (which library or stage of ours called into it).
 */
final class ProcessProfile {

    private final long pid;
    private final Path file;

    private ProcessProfile(long pid, Path file) {
        this.pid = pid;
        this.file = file;
    }

    /** Starts a recording with JFR's "profile" settings (execution samples every 10 ms). */
    static ProcessProfile start(long pid) throws Exception {
        Path file = Files.createTempFile("race-" + pid, ".jfr");
        jcmd(pid, "JFR.start", "name=race", "settings=profile", "filename=" + file);
        return new ProcessProfile(pid, file);
    }

    /** Stops the recording and summarises its samples: the top {@code limit} rows of each table. */
    String stop(String title, int limit) throws Exception {
        jcmd(pid, "JFR.stop", "name=race");
        Map<String, Integer> topFrames = new HashMap<>();
        Map<String, Integer> callers = new HashMap<>();
        Map<String, Integer> ours = new HashMap<>();
        int samples = 0;
        double gcMillis = 0;
        double compileMillis = 0;
        try {
            for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
                switch (event.getEventType().getName()) {
                    case "jdk.GarbageCollection" -> gcMillis += event.getDuration().toNanos() / 1e6;
                    case "jdk.Compilation" -> compileMillis += event.getDuration().toNanos() / 1e6;
                    default -> {
                    }
                }
                if (!event.getEventType().getName().equals("jdk.ExecutionSample") || event.getStackTrace() == null
                        || event.getStackTrace().getFrames().isEmpty()) {
                    continue;
                }
                samples++;
                List<RecordedFrame> frames = event.getStackTrace().getFrames();
                topFrames.merge(name(frames.getFirst()), 1, Integer::sum);
                String caller = frames.stream().map(f -> f.getMethod().getType().getName()).filter(c -> !isJdk(c)).findFirst()
                        .map(ProcessProfile::packageOf).orElse("(JDK only)");
                callers.merge(caller, 1, Integer::sum);
                String our = frames.stream().filter(f -> f.getMethod().getType().getName().startsWith("io.backbeatserverless."))
                        .findFirst().map(ProcessProfile::name).orElse("(none of ours on the stack)");
                ours.merge(our, 1, Integer::sum);
            }
        } finally {
            Files.deleteIfExists(file);
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format("%s: %d execution samples (JFR, every 10 ms of a running thread); garbage collections took %.0f ms"
                + " and JIT compilations %.0f ms of the recording%n%n", title, samples, gcMillis, compileMillis));
        out.append("| top frame (where the CPU is spent) | share |\n|---|---|\n");
        rows(out, topFrames, samples, limit);
        out.append("\n| first frame outside the JDK, by package (who spends it) | share |\n|---|---|\n");
        rows(out, callers, samples, limit);
        out.append("\n| innermost frame of ours (which of our calls spends it) | share |\n|---|---|\n");
        rows(out, ours, samples, limit);
        return out.toString();
    }

    private static void rows(StringBuilder out, Map<String, Integer> counts, int samples, int limit) {
        List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort(Map.Entry.<String, Integer>comparingByValue().reversed());
        for (Map.Entry<String, Integer> e : sorted.subList(0, Math.min(limit, sorted.size()))) {
            out.append(String.format("| `%s` | %.1f %% |%n", e.getKey(), 100.0 * e.getValue() / samples));
        }
    }

    private static String name(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }

    private static boolean isJdk(String type) {
        return type.startsWith("java.") || type.startsWith("jdk.") || type.startsWith("sun.") || type.startsWith("javax.");
    }

    /** The first four parts of a class's package: enough to tell the SDK's HTTP client from its signer or our stages. */
    private static String packageOf(String type) {
        String[] parts = type.split("\\.");
        int keep = Math.min(parts.length - 1, 4);
        return String.join(".", java.util.Arrays.copyOf(parts, Math.max(keep, 1)));
    }

    private static void jcmd(long pid, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid)));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0 || output.contains("Could not") || output.contains("error")) {
            throw new IOException("jcmd " + String.join(" ", arguments) + " on " + pid + ": " + output);
        }
    }
}
