package io.backbeatserverless.benchmarks;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Checks the plan for 10,000 objects/s (docs/scale-and-cost.md) with {@link ScaleModel}: the plan, half its rate, a site
 * ten times slower, a site paused for an hour and resumed, one hot key taking 5 % of the writes, and today's defaults
 * at the plan's rate. Prints a table; every assumption is an option, printed with it.
 */
@Command(name = "scale-model", mixinStandardHelpOptions = true,
        description = "Simulates one site's replication at scale (Lambda on MSK: one invocation per partition at a time) and prints lag and put-to-replica latency per scenario.")
final class ScaleModelRun implements Callable<Integer> {

    @Option(names = "--rate", defaultValue = "10000", description = "source writes per second (default: ${DEFAULT-VALUE})")
    double rate;
    @Option(names = "--seconds", defaultValue = "120", description = "how long the writes go on in each scenario but the pause (default: ${DEFAULT-VALUE})")
    double seconds;
    @Option(names = "--partitions", defaultValue = "64", description = "partitions of the replication topic (default: ${DEFAULT-VALUE})")
    int partitions;
    @Option(names = "--batch-size", defaultValue = "500", description = "the trigger's batch size (default: ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--batch-window-ms", defaultValue = "0", description = "the trigger's batching window (default: ${DEFAULT-VALUE})")
    int batchWindowMs;
    @Option(names = "--key-concurrency", defaultValue = "64", description = "keys copied at once in an invocation (default: ${DEFAULT-VALUE})")
    int keyConcurrency;
    @Option(names = "--memory-mib", defaultValue = "2048", description = "the replicator's memory, for GB-seconds (default: ${DEFAULT-VALUE})")
    int memoryMib;
    @Option(names = "--pause-minutes", defaultValue = "60", description = "how long the paused site stays paused (default: ${DEFAULT-VALUE})")
    double pauseMinutes;
    @Option(names = "--feed-delay-ms", defaultValue = "200", description = "source write to entry in Kafka, mean; drawn uniformly from half to 1.5 times (default: ${DEFAULT-VALUE})")
    double feedDelayMs;
    @Option(names = "--invocation-overhead-ms", defaultValue = "30", description = "per invocation: the trigger's call and publishing the outcomes (default: ${DEFAULT-VALUE})")
    double invocationOverheadMs;
    @Option(names = "--cpu-ms-per-object", defaultValue = "1.0", description = "the function's own work per object, measured (docs/benchmarks.md) (default: ${DEFAULT-VALUE})")
    double cpuMsPerObject;
    @Option(names = "--head-ms", defaultValue = "10,50", split = ",", description = "site HEAD latency median,p99 ms (default: ${DEFAULT-VALUE})")
    double[] headMs;
    @Option(names = "--get-ms", defaultValue = "15,80", split = ",", description = "source GET latency median,p99 ms (default: ${DEFAULT-VALUE})")
    double[] getMs;
    @Option(names = "--put-ms", defaultValue = "25,120", split = ",", description = "site PUT latency median,p99 ms (default: ${DEFAULT-VALUE})")
    double[] putMs;
    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        ScaleModel.Plan plan = new ScaleModel.Plan(rate, seconds, partitions, batchSize, batchWindowMs, keyConcurrency, 0, 1, -1, 0,
                feedDelayMs, invocationOverheadMs, cpuMsPerObject, new ScaleModel.Latency(headMs[0], headMs[1]),
                new ScaleModel.Latency(getMs[0], getMs[1]), new ScaleModel.Latency(putMs[0], putMs[1]), memoryMib, seed);
        System.out.printf("scale model, one site: plan %d partitions, batch %d, window %d ms, keyConcurrency %d, %d MiB; "
                        + "assumed latencies ms (median/p99) HEAD %.0f/%.0f GET %.0f/%.0f PUT %.0f/%.0f, feed %.0f ms, invocation overhead %.0f ms,"
                        + " %.1f ms CPU per object; seed %d%n%n",
                partitions, batchSize, batchWindowMs, keyConcurrency, memoryMib, headMs[0], headMs[1], getMs[0], getMs[1], putMs[0], putMs[1],
                feedDelayMs, invocationOverheadMs, cpuMsPerObject, seed);
        Map<String, ScaleModel.Plan> scenarios = new LinkedHashMap<>();
        scenarios.put(String.format("the plan at %,.0f/s", rate), plan);
        scenarios.put(String.format("half the rate (%,.0f/s)", rate / 2), copy(plan, rate / 2, seconds, partitions, batchSize, keyConcurrency, 0, 1, -1, 0));
        scenarios.put("the site 10x slower (HEAD, PUT)", copy(plan, rate, seconds, partitions, batchSize, keyConcurrency, 0, 10, -1, 0));
        scenarios.put(String.format("the site paused %.0f min, then resumed", pauseMinutes),
                copy(plan, rate, pauseMinutes * 60 + seconds * 5, partitions, batchSize, keyConcurrency, 0, 1, 30, pauseMinutes * 60));
        scenarios.put("one hot key: 5 % of the writes", copy(plan, rate, seconds, partitions, batchSize, keyConcurrency, 0.05, 1, -1, 0));
        scenarios.put(String.format("today's defaults at %,.0f/s (8 partitions, batch 100, keyConcurrency 16)", rate),
                copy(plan, rate, seconds, 8, 100, 16, 0, 1, -1, 0));
        System.out.println("| scenario | objects | put to replica p50 / p99 / max ms | max backlog (entries) | drained after the writes s | catch-up after the resume s | mean batch | mean invocation ms | GB-s per million objects | concurrent invocations |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (Map.Entry<String, ScaleModel.Plan> scenario : scenarios.entrySet()) {
            ScaleModel.Result r = ScaleModel.run(scenario.getValue());
            System.out.printf("| %s | %,d | %.0f / %.0f / %.0f | %,d | %.1f | %s | %.0f | %.0f | %.0f | %d |%n", scenario.getKey(), r.objects(),
                    r.p50Ms(), r.p99Ms(), r.maxMs(), r.maxBacklog(), r.drainedAfterWritesSeconds(),
                    r.catchUpSeconds() < 0 ? "-" : String.format("%.0f", r.catchUpSeconds()), r.meanBatch(), r.meanInvocationMs(),
                    r.gbSecondsPerMillion(), r.concurrency());
        }
        return 0;
    }

    private static ScaleModel.Plan copy(ScaleModel.Plan p, double rate, double seconds, int partitions, int batchSize, int keyConcurrency,
                                        double hotKeyShare, double siteFactor, double pauseAt, double pauseSeconds) {
        return new ScaleModel.Plan(rate, seconds, partitions, batchSize, p.batchWindowMs(), keyConcurrency, hotKeyShare, siteFactor, pauseAt,
                pauseSeconds, p.feedDelayMs(), p.invocationOverheadMs(), p.cpuMsPerObject(), p.head(), p.get(), p.put(), p.memoryMiB(), p.seed());
    }
}
