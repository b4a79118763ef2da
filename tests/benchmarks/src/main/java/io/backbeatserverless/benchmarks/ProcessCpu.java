package io.backbeatserverless.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time used by this JVM and by the stack's server processes (Linux /proc), so a run can say where
 * the two cores went: milliseconds of CPU per object, per process. Each JVM's entry has a companion, its name plus
 * {@link #JIT}: the part spent by its JIT compiler threads (already inside the process's figure: a fresh JVM compiles
 * for tens of seconds, which a long-running one, or a Lambda execution environment kept busy, pays once).
 */
final class ProcessCpu {

    /** Suffix of the entry holding a process's JIT compiler threads' CPU. */
    static final String JIT = " JIT";

    /** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s. */
    private static final double MILLIS_PER_TICK = 10.0;

    private ProcessCpu() {
    }

    /** CPU milliseconds so far of this JVM ("harness") and of each named process, and of their JIT compilers ({@link #JIT}). */
    static Map<String, Double> snapshot(Map<String, Long> pids) {
        Map<String, Double> cpu = new LinkedHashMap<>();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        cpu.put("harness JVM", os.getProcessCpuTime() / 1e6);
        cpu.put("harness JVM" + JIT, compilerThreads(ProcessHandle.current().pid()));
        // By name: the tables' columns keep one order from run to run (the servers' pids come in the order they started).
        for (Map.Entry<String, Long> p : new java.util.TreeMap<>(pids).entrySet()) {
            cpu.put(p.getKey(), ofStat(Path.of("/proc", Long.toString(p.getValue()), "stat")));
            cpu.put(p.getKey() + JIT, compilerThreads(p.getValue()));
        }
        return cpu;
    }

    /** Per-process CPU milliseconds between two snapshots, divided by {@code objects}. */
    static Map<String, Double> perObject(Map<String, Double> before, Map<String, Double> after, long objects) {
        Map<String, Double> per = new LinkedHashMap<>();
        after.forEach((name, ms) -> per.put(name, (ms - before.getOrDefault(name, 0.0)) / objects));
        return per;
    }

    /** CPU milliseconds of a process's JIT compiler threads (named "C1 CompilerThre…", "C2 CompilerThre…"); 0 for others. */
    private static double compilerThreads(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.filter(t -> {
                try {
                    String name = Files.readString(t.resolve("comm")).strip();
                    return name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre");
                } catch (IOException e) {
                    return false; // the thread ended
                }
            }).mapToDouble(t -> {
                double ms = ofStat(t.resolve("stat"));
                return Double.isNaN(ms) ? 0 : ms;
            }).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    private static double ofStat(Path stat) {
        try {
            String text = Files.readString(stat);
            String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
            // After the command: state is field 3, utime 14 and stime 15 of the whole line.
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * MILLIS_PER_TICK;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
