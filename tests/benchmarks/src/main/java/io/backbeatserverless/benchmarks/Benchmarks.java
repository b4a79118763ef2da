package io.backbeatserverless.benchmarks;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the benchmark harness: tests/benchmarks/run <benchmark> [options]. */
@Command(name = "benchmarks", mixinStandardHelpOptions = true, subcommands = {ChaosRun.class, BandwidthCapRun.class, OpsFloodRun.class, ScaleModelRun.class, StackLargeObjectRun.class, CloudServerBenchmark.class, LargeObjectBenchmark.class, S3ServerChecklist.class, PopulatorBenchmark.class, RaceBenchmark.class, VerifySpeedBenchmark.class, SdkLeversBenchmark.class, ColdStartBenchmark.class},
        description = "Backbeat Serverless benchmarks on real local servers.")
public final class Benchmarks {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Benchmarks()).execute(args));
    }
}
