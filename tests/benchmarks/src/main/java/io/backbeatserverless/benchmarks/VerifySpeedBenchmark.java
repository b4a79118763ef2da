package io.backbeatserverless.benchmarks;

import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.verify.VerifyRequest;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.localstack.InventoryReportWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verify's speed by its mode (issue 29), on the stack, in the same run over the same replicated bucket: by the listings
 * with no key read whole, by the listings with the default sample read whole, and deep (every version's HEAD and tags at
 * the source and the site), each under the configuration's request budget ({@code ops.verifyRequestsPerSecond}); then by
 * S3 Inventory reports of the two buckets (written as S3 delivers them, {@link InventoryReportWriter}; the time to write
 * them is not verify's and is not counted), with the default sample.
 */
@Command(name = "verify-speed", mixinStandardHelpOptions = true,
        description = "Verify's versions per second by listings, by listings with the default sample, and deep, on one replicated bucket.")
final class VerifySpeedBenchmark implements Callable<Integer> {

    @Option(names = "--objects", defaultValue = "10000", description = "versions in the bucket")
    int objects;

    @Option(names = "--size", defaultValue = "1024", description = "bytes per object")
    int size;

    @Option(names = "--skip-deep", description = "leave deep mode out (it takes ~200 s for 10,000 versions)")
    boolean skipDeep;

    @Override
    public Integer call() throws Exception {
        try (StackBench bench = new StackBench("listing", 16, false)) {
            String bucket = bench.versionedBucket("verify");
            bench.putAll(bucket, "k", objects, new byte[size], new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
            Counters before = bench.metrics.totals(StackBench.SITE);
            bench.putRule(bucket);
            bench.awaitOutcomes(before, objects, Duration.ofMinutes(15));
            int budget = bench.config.ops().verifyRequestsPerSecond();
            StringBuilder out = new StringBuilder(String.format("%nverify of %d versions of %d B, replicated, one site; request budget %d/s%n%n",
                    objects, size, budget));
            out.append("| mode | seconds | versions/s | clean |\n|---|---|---|---|\n");
            for (Object[] mode : new Object[][]{{"listings, no sample", false, 0.0}, {"listings, 1 % sample (default)", false, VerifyRequest.DEFAULT_SAMPLE},
                    {"deep", true, VerifyRequest.DEFAULT_SAMPLE}, {"inventory reports, 1 % sample of the keys read live", false,
                    VerifyRequest.DEFAULT_SAMPLE}}) {
                if (skipDeep && (boolean) mode[1]) {
                    continue;
                }
                if (((String) mode[0]).startsWith("inventory")) {
                    // The stack's configuration checks a bucket by its reports once its source has one (StackBench).
                    java.time.Instant at = java.time.Instant.now();
                    InventoryReportWriter.write(bench.source, bucket, bench.source, StackBench.INVENTORY_BUCKET, "inventories", "backbeat", 8, at);
                    InventoryReportWriter.write(bench.destination, bench.config.requireSite(StackBench.SITE).bucket(), bench.destination,
                            StackBench.INVENTORY_BUCKET, "inventories", "backbeat", 8, at);
                }
                long started = System.nanoTime();
                VerifyRun run = bench.stack.ops().service().startVerify(new VerifyRequest(bucket, List.of(), "", false, null,
                        (boolean) mode[1], (double) mode[2]));
                VerifyRun done = run;
                while (!done.phase().finished()) {
                    Thread.sleep(50);
                    done = bench.stack.ops().service().verifyRun(run.id());
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                out.append(String.format("| %s | %.1f | %.0f | %s |%n", mode[0], seconds, done.scanned() / seconds, done.clean()));
                if (((String) mode[0]).startsWith("inventory") && !done.byInventory().contains(bucket)) {
                    throw new IllegalStateException("the run did not use the inventory reports: " + done);
                }
            }
            System.out.println(out);
        }
        return 0;
    }
}
