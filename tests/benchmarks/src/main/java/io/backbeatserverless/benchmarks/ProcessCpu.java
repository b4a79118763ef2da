package io.backbeatserverless.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time used by this JVM and by the stack's server processes (Linux /proc), so a run can say where
 * the two cores went: milliseconds of CPU per object, per process.
 */
final class ProcessCpu {

    /** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s. */
    private static final double MILLIS_PER_TICK = 10.0;

    private ProcessCpu() {
    }

    /** CPU milliseconds so far of this JVM ("harness") and of each named process. */
    static Map<String, Double> snapshot(Map<String, Long> pids) {
        Map<String, Double> cpu = new LinkedHashMap<>();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        cpu.put("harness JVM", os.getProcessCpuTime() / 1e6);
        pids.forEach((name, pid) -> cpu.put(name, ofPid(pid)));
        return cpu;
    }

    /** Per-process CPU milliseconds between two snapshots, divided by {@code objects}. */
    static Map<String, Double> perObject(Map<String, Double> before, Map<String, Double> after, long objects) {
        Map<String, Double> per = new LinkedHashMap<>();
        after.forEach((name, ms) -> per.put(name, (ms - before.getOrDefault(name, 0.0)) / objects));
        return per;
    }

    private static double ofPid(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // After the command: state is field 3, utime 14 and stime 15 of the whole line.
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * MILLIS_PER_TICK;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
