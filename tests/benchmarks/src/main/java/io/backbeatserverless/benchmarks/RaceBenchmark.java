package io.backbeatserverless.benchmarks;

import io.backbeatserverless.core.ops.Counters;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.ToDoubleFunction;

/**
 * The race with rclone, the two jobs an operator compares us on, each on a fresh embedded stack whose populator,
 * replicator and status processor run in JVMs of their own (so each one's CPU is measured alone):
 * <ol>
 *   <li><b>backfill</b>: N versions already in a versioned bucket (optionally some keys overwritten and some deleted,
 *       leaving delete markers), then a rule is put; the timer runs from the rule to the last version COMPLETED at the
 *       site (the listing feed finds them, as S3 Batch Replication would). Then, on the same servers in the same run,
 *       the AWS SDK loop and the leanest loop copy the same object versions, and rclone tuned copies the bucket (its
 *       latest versions only);</li>
 *   <li><b>live</b>: puts paced at a rate stepped up every {@code --live-seconds} while the put-to-replica p99 stays
 *       within 1 s; the highest such rate is then run again, and half of it, {@code --runs} times each; rclone tuned
 *       copies one of the step buckets afterwards on the same servers.</li>
 * </ol>
 * CPU is counted per process over each timed window; {@code --profile} adds an untimed backfill with a JFR recording
 * of the function process that used the most CPU per object.
 */
@Command(name = "race", mixinStandardHelpOptions = true,
        description = "Backfill and live replication against rclone tuned, the SDK loop and the leanest loop; CPU per stage.")
final class RaceBenchmark implements Callable<Integer> {

    @Option(names = "--part", defaultValue = "all", description = "backfill, live or all (default: ${DEFAULT-VALUE})")
    String part;
    @Option(names = "--objects", defaultValue = "10000", description = "keys put before the rule in a backfill (default: ${DEFAULT-VALUE})")
    int objects;
    @Option(names = "--size", defaultValue = "4096", description = "bytes per object (default: ${DEFAULT-VALUE})")
    int size;
    @Option(names = "--overwrite-percent", defaultValue = "0", description = "backfill: keys given a second version (default: ${DEFAULT-VALUE})")
    int overwritePercent;
    @Option(names = "--delete-percent", defaultValue = "0", description = "backfill: keys deleted (a delete marker on top) (default: ${DEFAULT-VALUE})")
    int deletePercent;
    @Option(names = "--concurrency", defaultValue = "16", description = "put threads, loop threads and rclone transfers (default: ${DEFAULT-VALUE})")
    int concurrency;
    @Option(names = "--warmup", defaultValue = "2000", description = "objects replicated on each fresh stack before measuring (default: ${DEFAULT-VALUE})")
    int warmup;
    @Option(names = "--runs", defaultValue = "3", description = "backfill runs; live runs at the sustained rate and at half of it (default: ${DEFAULT-VALUE})")
    int runs;
    @Option(names = "--live-feed", defaultValue = "s3-events", description = "the live part's change feed: s3-events, record-log (a journal the load generator writes, served"
            + " as CloudServer serves its record log) or listing (default: ${DEFAULT-VALUE})")
    String liveFeed;
    @Option(names = "--live-functions", defaultValue = "in-process", description = "live: the functions in the stack's JVM"
            + " (in-process, as ./localstack/up runs them: one JIT and heap for all) or in processes of their own (processes)"
            + " (default: ${DEFAULT-VALUE})")
    String liveFunctions;
    @Option(names = "--live-warmup", defaultValue = "5000", description = "live: objects replicated before the first step (default: ${DEFAULT-VALUE})")
    int liveWarmup;
    @Option(names = "--live-start", defaultValue = "150", description = "first put rate of the live steps, puts/s (default: ${DEFAULT-VALUE})")
    double liveStart;
    @Option(names = "--live-step", defaultValue = "1.25", description = "each live step's rate over the one before (default: ${DEFAULT-VALUE})")
    double liveStep;
    @Option(names = "--live-seconds", defaultValue = "60", description = "length of each live run (default: ${DEFAULT-VALUE})")
    int liveSeconds;
    @Option(names = "--p99-limit-ms", defaultValue = "1000", description = "the live p99 a rate must keep to count as sustained (default: ${DEFAULT-VALUE})")
    double p99LimitMs;
    @Option(names = "--lambda-jit", defaultValue = "c1", description = "JIT of the replicator's and status processor's JVMs:"
            + " c1 (C1 only, Lambda's java21 default) or c2 (the JVM's tiered default) (default: ${DEFAULT-VALUE})")
    String lambdaJit;
    @Option(names = "--populator-heap", defaultValue = "384m", description = "backfill: the populator process's -Xmx; its GC log's"
            + " peak is reported (default: ${DEFAULT-VALUE})")
    String populatorHeap;
    @Option(names = "--fresh-site-per-copier", description = "backfill: the site's S3 server started again, empty, before each loop and"
            + " rclone (it holds every object in its heap: 100,000 versions times four copiers is past what one server takes)")
    boolean freshSitePerCopier;
    @Option(names = "--profile", description = "an extra, untimed backfill with a JFR recording of the busiest function process")
    boolean profile;
    @Option(names = "--rclone", defaultValue = "/usr/bin/rclone", description = "rclone binary (default: ${DEFAULT-VALUE})")
    Path rclone;
    @Option(names = "--results", defaultValue = "docs/benchmarks.md", description = "page the tables are written to; '-' for none (default: ${DEFAULT-VALUE})")
    String results;

    record Backfill(int entries, double ours, long notCompleted, int objectVersions, double sdk, double lean, int latest, double rcloneTuned,
                    Map<String, Double> oursCpu, Map<String, Double> sdkCpu, Map<String, Double> leanCpu, Map<String, Double> rcloneCpu) {
    }

    record Live(String kind, double target, double achieved, int objects, double p50, double p99, double max, long notCompleted,
                Map<String, Double> cpu) {
        boolean sustained(double p99Limit) {
            return notCompleted == 0 && p99 <= p99Limit && achieved >= 0.95 * target;
        }

        Live as(String newKind) {
            return new Live(newKind, target, achieved, objects, p50, p99, max, notCompleted, cpu);
        }
    }

    @Override
    public Integer call() throws Exception {
        System.setProperty(io.backbeatserverless.localstack.FunctionProcess.LAMBDA_JIT_PROPERTY, lambdaJit);
        System.setProperty(io.backbeatserverless.localstack.FunctionProcess.POPULATOR_MAX_HEAP_PROPERTY, populatorHeap);
        Path gcLogs = java.nio.file.Files.createTempDirectory("race-gc");
        System.setProperty(io.backbeatserverless.localstack.FunctionProcess.GC_LOG_DIRECTORY_PROPERTY, gcLogs.toString());
        StringBuilder tables = new StringBuilder();
        if (part.equals("all") || part.equals("backfill")) {
            List<Backfill> backfills = new ArrayList<>();
            List<String> heaps = new ArrayList<>();
            for (int i = 1; i <= runs; i++) {
                Backfill run = backfill(null);
                System.out.printf("backfill %d: %s%n", i, run);
                backfills.add(run);
                heaps.add(GcLog.peak(gcLogs.resolve("populator-gc.log")));
            }
            if (!backfills.isEmpty()) {
                tables.append(backfillTables(backfills));
                tables.append(String.format("%nThe populator's heap (-Xmx%s, SerialGC), by run, from its GC log: %s%n", populatorHeap,
                        String.join("; ", heaps)));
            }
            if (profile) {
                tables.append('\n');
                backfill(tables);
            }
        }
        if (part.equals("all") || part.equals("live")) {
            tables.append(live());
        }
        System.out.println();
        System.out.println(tables);
        if (!"-".equals(results)) {
            ResultsPage.write(Path.of(results), section(), command(), tables.toString());
        }
        return 0;
    }

    /** The results page's section: one per part, the backfill with overwrites and deletes and the profile apart. */
    private String section() {
        if (part.equals("backfill") && runs == 0) {
            return "race-profile";
        }
        return "race-" + part + (!part.equals("live") && (overwritePercent > 0 || deletePercent > 0) ? "-history" : "")
                + (!part.equals("live") && objects != 10_000 ? "-" + objects : "")
                + (!part.equals("backfill") && !liveFeed.equals("s3-events") ? "-" + liveFeed : "");
    }

    private String command() {
        return "tests/benchmarks/run race --part " + part + " --objects " + objects + " --size " + size + " --overwrite-percent "
                + overwritePercent + " --delete-percent " + deletePercent + " --concurrency " + concurrency + " --warmup " + warmup
                + " --runs " + runs + " --lambda-jit " + lambdaJit + (populatorHeap.equals("384m") ? "" : " --populator-heap " + populatorHeap)
                + (part.equals("backfill") ? "" : " --live-feed " + liveFeed
                + " --live-functions " + liveFunctions + " --live-warmup " + liveWarmup + " --live-start " + liveStart
                + " --live-step " + liveStep + " --live-seconds " + liveSeconds) + (profile ? " --profile" : "")
                + (freshSitePerCopier ? " --fresh-site-per-copier" : "");
    }

    /** With {@code --fresh-site-per-copier}: the site's server started again, empty; the processes' ids as they are then. */
    private Map<String, Long> freshSite(StackBench bench, Map<String, Long> pids) {
        if (!freshSitePerCopier) {
            return pids;
        }
        bench.stack.restartSiteServer(StackBench.SITE);
        return bench.pids();
    }

    /** One backfill on a fresh stack; with {@code profile} not null, an untimed one whose busiest function is recorded. */
    private Backfill backfill(StringBuilder profile) throws Exception {
        try (StackBench bench = new StackBench("listing", concurrency, true)) {
            byte[] body = randomBody();
            bench.warmUp(body, warmup);
            String bucket = bench.versionedBucket("backfill");
            Map<String, String> firstVersions = new ConcurrentHashMap<>();
            bench.putAll(bucket, "k", objects, body, firstVersions, new ConcurrentHashMap<>());
            List<Map.Entry<String, String>> objectVersions = new ArrayList<>(firstVersions.entrySet());
            int overwrites = objects * overwritePercent / 100;
            int deletes = objects * deletePercent / 100;
            Map<String, String> secondVersions = new ConcurrentHashMap<>();
            // Every tenth key or so, spread over the bucket, gets a second version; other keys get a delete marker.
            LoadGenerator.burst(concurrency, overwrites, i -> bench.put(bucket, key(spread(i, overwrites)), body, secondVersions,
                    new ConcurrentHashMap<>()));
            objectVersions.addAll(secondVersions.entrySet());
            LoadGenerator.burst(concurrency, deletes, i -> bench.source.deleteObject(r -> r.bucket(bucket).key(key(spread(i, deletes) + 1))));
            int entries = objectVersions.size() + deletes;
            int latest = objects - deletes;

            Map<String, Long> pids = bench.pids();
            Counters before = bench.metrics.totals(StackBench.SITE);
            Map<String, Double> cpuBefore = ProcessCpu.snapshot(pids);
            Map<String, ProcessProfile> recordings = new LinkedHashMap<>();
            if (profile != null) {
                for (Map.Entry<String, Long> f : bench.stack.functionPids().entrySet()) {
                    recordings.put(f.getKey(), ProcessProfile.start(f.getValue()));
                }
            }
            Instant ruled = Instant.now();
            bench.putRule(bucket);
            bench.awaitOutcomes(before, entries, Duration.ofMinutes(15));
            double seconds = Duration.between(ruled, Instant.now()).toMillis() / 1000.0;
            Map<String, Double> oursCpu = ProcessCpu.perObject(cpuBefore, ProcessCpu.snapshot(pids), entries);
            long notCompleted = entries - (bench.metrics.totals(StackBench.SITE).completed() - before.completed());
            if (profile != null) {
                String busiest = recordings.keySet().stream().max(java.util.Comparator.comparingDouble(f -> oursCpu.getOrDefault(f, 0.0)))
                        .orElseThrow();
                for (Map.Entry<String, ProcessProfile> r : recordings.entrySet()) {
                    String summary = r.getValue().stop("JFR profile of `" + r.getKey() + "` during an untimed backfill of " + entries
                            + " entries (" + String.format("%.2f", oursCpu.get(r.getKey())) + " ms of CPU per entry)", 15);
                    if (r.getKey().equals(busiest)) {
                        profile.append(summary);
                    } else {
                        System.out.println(summary);
                    }
                }
                return null;
            }

            pids = freshSite(bench, pids);
            Map<String, Double> sdkBefore = ProcessCpu.snapshot(pids);
            double sdk = bench.sdkDefaultsCopy(bucket, objectVersions);
            Map<String, Double> sdkCpu = ProcessCpu.perObject(sdkBefore, ProcessCpu.snapshot(pids), objectVersions.size());
            pids = freshSite(bench, pids);
            Map<String, Double> leanBefore = ProcessCpu.snapshot(pids);
            double lean = bench.leanCopy(bucket, objectVersions);
            Map<String, Double> leanCpu = ProcessCpu.perObject(leanBefore, ProcessCpu.snapshot(pids), objectVersions.size());
            pids = freshSite(bench, pids);
            Map<String, Double> rcloneBefore = ProcessCpu.snapshot(pids);
            StackBench.RcloneRun rcloneRun = bench.rclone(rclone, bucket, "rclone-tuned", StackBench.RCLONE_TUNED);
            double rcloneSeconds = rcloneRun.seconds();
            Map<String, Double> rcloneCpu = ProcessCpu.perObject(rcloneBefore, ProcessCpu.snapshot(pids), latest);
            rcloneCpu.put(RCLONE, rcloneRun.cpuMillis() / latest);
            return new Backfill(entries, entries / seconds, notCompleted, objectVersions.size(), objectVersions.size() / sdk,
                    objectVersions.size() / lean, latest, latest / rcloneSeconds, oursCpu, sdkCpu, leanCpu, rcloneCpu);
        }
    }

    private static String key(int i) {
        return String.format("k%06d", i);
    }

    /** The i-th of n keys spread evenly over the bucket (even numbers: deletes take the odd ones next to them). */
    private int spread(int i, int n) {
        return (int) ((long) i * (objects / Math.max(n, 1)) / 2 * 2) % objects;
    }

    /** Steps the put rate up while p99 holds, then runs the highest sustained rate and half of it. */
    private String live() throws Exception {
        try (StackBench bench = new StackBench(liveFeed, concurrency, liveFunctions.equals("processes"))) {
            byte[] body = randomBody();
            bench.warmUp(body, liveWarmup);
            List<Live> steps = new ArrayList<>();
            String stepBucket = null;
            int stepObjects = 0;
            double best = 0;
            // Up while the steps hold; a first step that fails (a slow hour) steps down instead, to a quarter of the start.
            for (double rate = liveStart; rate >= liveStart / 4; rate = best > 0 ? rate * liveStep : rate / liveStep) {
                String bucket = bench.replicatedBucket();
                Live step = paced(bench, bucket, "step", rate);
                System.out.printf("live step: %s%n", step);
                steps.add(step);
                if (!step.sustained(p99LimitMs)) {
                    if (best > 0) {
                        break;
                    }
                    continue;
                }
                best = rate;
                stepBucket = bucket;
                stepObjects = step.objects();
            }
            // A step held once is not sustained yet: it is run again (and half of it), and while the median of those runs
            // misses the p99 limit, the rate steps back down and is run again.
            List<Live> sustained = new ArrayList<>();
            List<Live> half = new ArrayList<>();
            while (best > 0) {
                sustained.clear();
                half.clear();
                for (int i = 0; i < runs; i++) {
                    sustained.add(paced(bench, bench.replicatedBucket(), "sustained", best));
                    half.add(paced(bench, bench.replicatedBucket(), "half", best / 2));
                    System.out.printf("live: %s%n      %s%n", sustained.getLast(), half.getLast());
                }
                if (Stats.median(sustained.stream().map(Live::p99).toList()) <= p99LimitMs
                        && sustained.stream().filter(l -> l.sustained(p99LimitMs)).count() * 2 > runs) {
                    break;
                }
                sustained.forEach(l -> steps.add(l.as("repeat, not held")));
                half.forEach(l -> steps.add(l.as("its half")));
                best = best / liveStep < liveStart ? 0 : best / liveStep;
            }
            double rcloneRate = Double.NaN;
            if (stepBucket != null) {
                rcloneRate = stepObjects / bench.rclone(rclone, stepBucket, "rclone-tuned", StackBench.RCLONE_TUNED).seconds();
            }
            return liveTables(steps, sustained, half, best, rcloneRate);
        }
    }

    /** Puts paced at {@code rate} for {@code liveSeconds}, then each one's put-acknowledged to replica-written latency. */
    private Live paced(StackBench bench, String bucket, String kind, double rate) throws Exception {
        byte[] body = randomBody();
        int total = (int) Math.round(rate * liveSeconds);
        Map<String, String> versions = new ConcurrentHashMap<>();
        Map<String, Instant> acked = new ConcurrentHashMap<>();
        Map<String, Long> pids = bench.pids();
        Counters before = bench.metrics.totals(StackBench.SITE);
        Map<String, Double> cpuBefore = ProcessCpu.snapshot(pids);
        double achieved = LoadGenerator.paced(concurrency, total, rate, i -> bench.put(bucket, key(i), body, versions, acked));
        try {
            bench.awaitOutcomes(before, total, Duration.ofSeconds(Math.max(60, liveSeconds)));
        } catch (IllegalStateException behind) {
            System.out.printf("live %s at %.0f/s: %s%n", kind, rate, behind.getMessage());
        }
        Map<String, Double> cpu = ProcessCpu.perObject(cpuBefore, ProcessCpu.snapshot(pids), total);
        StackBench.Latencies latencies = bench.latencies(bucket, versions, acked);
        return new Live(kind, rate, achieved, total, latencies.percentile(50), latencies.percentile(99), latencies.percentile(100),
                latencies.notCompleted(), cpu);
    }

    private byte[] randomBody() {
        byte[] body = new byte[size];
        ThreadLocalRandom.current().nextBytes(body);
        return body;
    }

    /** rclone's own process, in the CPU tables: only the rclone row has it. */
    private static final String RCLONE = "rclone";

    private String backfillTables(List<Backfill> runs) {
        StringBuilder out = new StringBuilder();
        Backfill first = runs.getFirst();
        out.append(String.format("Backfill: %d keys x %d B put before the rule (%d %% overwritten, %d %% deleted): %d entries to replicate,"
                        + " %d object versions for the loops, %d latest objects for rclone; %d threads/transfers; objects/s (higher is better)%n%n",
                objects, size, overwritePercent, deletePercent, first.entries(), first.objectVersions(), first.latest(), concurrency));
        out.append("| run | ours (entries/s) | SDK defaults loop | leanest loop | rclone tuned (latest only) | ours/rclone tuned | ours/SDK loop | ours/leanest |\n");
        out.append("|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < runs.size(); i++) {
            Backfill r = runs.get(i);
            out.append(String.format("| %d | %.0f%s | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f |%n", i + 1, r.ours(),
                    r.notCompleted() > 0 ? " (" + r.notCompleted() + " not COMPLETED)" : "", r.sdk(), r.lean(), r.rcloneTuned(),
                    r.ours() / r.rcloneTuned(), r.ours() / r.sdk(), r.ours() / r.lean()));
        }
        out.append(String.format("| median (min-max) | %s | %s | %s | %s | %s | %s | %s |%n", spread(runs, Backfill::ours, "%.0f"),
                spread(runs, Backfill::sdk, "%.0f"), spread(runs, Backfill::lean, "%.0f"), spread(runs, Backfill::rcloneTuned, "%.0f"),
                spread(runs, r -> r.ours() / r.rcloneTuned(), "%.2f"), spread(runs, r -> r.ours() / r.sdk(), "%.2f"),
                spread(runs, r -> r.ours() / r.lean(), "%.2f")));
        out.append(String.format("%nCPU per replicated entry (ours) or copied object (the others), ms, per process (medians of the runs); the"
                + " pipeline is every process but the two S3 servers: for ours the functions, dynalite and the harness JVM (the Kafka broker and"
                + " the ops API), for the loops the harness JVM they run in, for rclone its own process%n%n"));
        List<String> processes = new ArrayList<>(processes(first.oursCpu()));
        processes.add(RCLONE);
        out.append("| copier | ").append(String.join(" | ", processes)).append(" | total | pipeline | of which JIT | pipeline less JIT |\n");
        out.append("|---|").append("---|".repeat(processes.size() + 4)).append("\n");
        out.append(cpuRow("ours", processes, runs, Backfill::oursCpu));
        out.append(cpuRow("SDK defaults loop (in the harness JVM)", processes, runs, Backfill::sdkCpu));
        out.append(cpuRow("leanest loop (in the harness JVM)", processes, runs, Backfill::leanCpu));
        out.append(cpuRow("rclone tuned", processes, runs, Backfill::rcloneCpu));
        return out.toString();
    }

    private String liveTables(List<Live> steps, List<Live> sustained, List<Live> half, double best, double rcloneRate) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%nLive, %s feed, functions %s: puts of %d B paced for %d s at each rate by %d threads; latency is put acknowledged"
                + " to replica written; a rate is sustained when every version is COMPLETED, p99 <= %.0f ms and the puts kept pace%n%n",
                liveFeed, liveFunctions.equals("processes") ? "in processes of their own" : "in the stack's JVM", size, liveSeconds,
                concurrency, p99LimitMs));
        out.append("| run | puts/s asked | achieved | objects | p50 ms | p99 ms | max ms | not COMPLETED | pipeline CPU ms/object | less JIT |\n");
        out.append("|---|---|---|---|---|---|---|---|---|---|\n");
        List<Live> all = new ArrayList<>(steps);
        all.addAll(sustained);
        all.addAll(half);
        for (Live l : all) {
            out.append(String.format("| %s | %.0f | %.0f | %d | %.0f | %.0f | %.0f | %d | %.2f | %.2f |%n", l.kind(), l.target(), l.achieved(),
                    l.objects(), l.p50(), l.p99(), l.max(), l.notCompleted(), pipeline(l.cpu()), pipeline(l.cpu()) - pipelineJit(l.cpu())));
        }
        if (!sustained.isEmpty()) {
            out.append(String.format("%nSustained: %.0f puts/s (median p50 %s ms, p99 %s ms); at half, %.0f puts/s: p50 %s ms, p99 %s ms;"
                            + " rclone tuned copied the highest step held (its objects) at %.0f objects/s on the same servers afterwards:"
                            + " sustained/rclone tuned %.2f%n",
                    best, spread(sustained, Live::p50, "%.0f"), spread(sustained, Live::p99, "%.0f"), best / 2, spread(half, Live::p50, "%.0f"),
                    spread(half, Live::p99, "%.0f"), rcloneRate, best / rcloneRate));
            List<String> processes = processes(sustained.getFirst().cpu());
            out.append(String.format("%nCPU per object at the sustained rate, ms, per process (medians; the harness JVM holds the load generator's"
                    + " puts, the Kafka broker and the SQS server%s)%n%n", liveFunctions.equals("processes") ? "" : ", and the functions"));
            out.append("| rate | ").append(String.join(" | ", processes)).append(" | total | pipeline | of which JIT | pipeline less JIT |\n");
            out.append("|---|").append("---|".repeat(processes.size() + 4)).append("\n");
            out.append(cpuRow("sustained", processes, sustained, Live::cpu));
            out.append(cpuRow("half", processes, half, Live::cpu));
        }
        return out.toString();
    }

    /** Every process but the S3 servers (and the load generator's puts, which the harness JVM also holds: counted in). */
    private static double pipeline(Map<String, Double> cpu) {
        return cpu.entrySet().stream().filter(e -> !e.getKey().endsWith(ProcessCpu.JIT) && isPipeline(e.getKey()))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    /** The part of {@link #pipeline} its processes' JIT compilers spent. */
    private static double pipelineJit(Map<String, Double> cpu) {
        return cpu.entrySet().stream().filter(e -> e.getKey().endsWith(ProcessCpu.JIT)
                        && isPipeline(e.getKey().substring(0, e.getKey().length() - ProcessCpu.JIT.length())))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    private static boolean isPipeline(String process) {
        return !process.equals("source") && !process.startsWith("site-");
    }

    private static List<String> processes(Map<String, Double> cpu) {
        return cpu.keySet().stream().filter(k -> !k.endsWith(ProcessCpu.JIT)).toList();
    }

    private static <T> String cpuRow(String copier, List<String> processes, List<T> runs, java.util.function.Function<T, Map<String, Double>> cpu) {
        StringBuilder row = new StringBuilder("| " + copier + " | ");
        for (String p : processes) {
            row.append(String.format("%.2f | ", Stats.median(runs.stream().map(r -> cpu.apply(r).getOrDefault(p, 0.0)).toList())));
        }
        row.append(String.format("%.2f | ", Stats.median(runs.stream().map(r -> processes(cpu.apply(r)).stream()
                .mapToDouble(p -> cpu.apply(r).get(p)).sum()).toList())));
        row.append(String.format("%.2f | ", Stats.median(runs.stream().map(r -> pipeline(cpu.apply(r))).toList())));
        row.append(String.format("%.2f | ", Stats.median(runs.stream().map(r -> pipelineJit(cpu.apply(r))).toList())));
        return row.append(String.format("%.2f |%n", Stats.median(runs.stream().map(r -> pipeline(cpu.apply(r)) - pipelineJit(cpu.apply(r))).toList())))
                .toString();
    }

    private static <T> String spread(List<T> runs, ToDoubleFunction<T> value, String format) {
        List<Double> values = runs.stream().map(value::applyAsDouble).toList();
        return String.format(format + " (" + format + "-" + format + ")", Stats.median(values), Stats.min(values), Stats.max(values));
    }
}
