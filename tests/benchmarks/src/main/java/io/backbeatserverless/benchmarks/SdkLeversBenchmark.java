package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.Endpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.crt.AwsCrtHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.s3.S3Client;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The SDK levers of the hot path, each alone: the same requests the replicator makes for a small object (HEAD at the
 * site, GET at the source, PUT of 4 KiB at the site) and the status processor's DynamoDB write, by the same threads
 * against the stack's own servers, with the project's clients ({@link AwsClients}) changed in one setting at a time.
 * CPU is the client threads' own (the servers run in other processes), so it is the client's cost per request.
 */
@Command(name = "sdk-levers", mixinStandardHelpOptions = true,
        description = "Client CPU per request of the hot path's S3 and DynamoDB calls, one SDK setting changed at a time.")
final class SdkLeversBenchmark implements Callable<Integer> {

    @Option(names = "--requests", defaultValue = "20000", description = "requests of each kind per variant and run (default: ${DEFAULT-VALUE})")
    int requests;
    @Option(names = "--threads", defaultValue = "16", description = "(default: ${DEFAULT-VALUE})")
    int threads;
    @Option(names = "--runs", defaultValue = "3", description = "runs; variants alternate within each (default: ${DEFAULT-VALUE})")
    int runs;
    @Option(names = "--results", defaultValue = "docs/benchmarks.md", description = "page the table is written to; '-' for none (default: ${DEFAULT-VALUE})")
    String results;

    private record Variant(String name, boolean fixedEndpoint, Supplier<SdkHttpClient.Builder<?>> http) {
    }

    private static final List<Variant> VARIANTS = List.of(
            new Variant("the functions' clients (AwsClients: SDK endpoint rules, Apache client)", false, null),
            new Variant("fixed endpoint (no endpoint rules)", true, null),
            new Variant("URLConnection client", false, UrlConnectionHttpClient::builder),
            new Variant("Apache 5 client", false, () -> Apache5HttpClient.builder().maxConnections(64)),
            new Variant("Apache 5 client and fixed endpoint", true, () -> Apache5HttpClient.builder().maxConnections(64)),
            // Its HTTP work runs on native event-loop threads: only the process column counts it (issue 29).
            new Variant("CRT client (AwsCrtHttpClient)", false, () -> AwsCrtHttpClient.builder().maxConcurrency(64)));

    @Override
    public Integer call() throws Exception {
        Map<String, List<double[]>> measured = new LinkedHashMap<>();
        try (StackBench bench = new StackBench("listing", threads, true)) {
            String bucket = bench.versionedBucket("levers");
            bench.destination.createBucket(r -> r.bucket(bucket));
            byte[] body = new byte[4096];
            ThreadLocalRandom.current().nextBytes(body);
            bench.source.putObject(r -> r.bucket(bucket).key("object"), RequestBody.fromBytes(body));
            bench.destination.putObject(r -> r.bucket(bucket).key("object"), RequestBody.fromBytes(body));
            Endpoint source = bench.config.source().endpoint();
            Endpoint site = bench.config.requireSite(StackBench.SITE).endpoint();
            String table = bench.config.dynamodb().tables().checkpoints();
            for (int run = 0; run <= runs; run++) {
                for (Variant v : VARIANTS) {
                    try (S3Client from = s3(source, v); S3Client to = s3(site, v);
                         DynamoDbClient dynamo = dynamoDb(bench.config.dynamodb().endpoint(), v)) {
                        double processBefore = processCpuMicros();
                        double[] row = {
                                perRequest(() -> to.headObject(r -> r.bucket(bucket).key("object"))),
                                perRequest(() -> from.getObjectAsBytes(r -> r.bucket(bucket).key("object"))),
                                perRequest(() -> to.putObject(r -> r.bucket(bucket).key("copy"), RequestBody.fromBytes(body))),
                                0,
                                perRequest(() -> dynamo.updateItem(r -> r.tableName(table)
                                        .key(Map.of("feed", AttributeValue.fromS("lever-" + Thread.currentThread().threadId())))
                                        .updateExpression("SET #v = :v").expressionAttributeNames(Map.of("#v", "value"))
                                        .expressionAttributeValues(Map.of(":v", AttributeValue.fromS("x")))))};
                        // The whole JVM's CPU over the four kinds, per S3 request (the DynamoDB writes' share taken out
                        // by their thread CPU): it counts a client's own threads, which the per-thread columns do not.
                        row[3] = (processCpuMicros() - processBefore - row[4] * requests) / (3.0 * requests);
                        if (run > 0) { // run 0 warms every variant up (JIT) and is not counted
                            measured.computeIfAbsent(v.name(), k -> new ArrayList<>()).add(row);
                        }
                        System.out.printf("run %d %-55s HEAD %.0f  GET %.0f  PUT %.0f  process/S3 request %.0f  UpdateItem %.0f us of client CPU%n",
                                run, v.name(), row[0], row[1], row[2], row[3], row[4]);
                    }
                }
            }
        }
        String tableText = table(measured);
        System.out.println();
        System.out.println(tableText);
        if (!"-".equals(results)) {
            ResultsPage.write(Path.of(results), "sdk-levers", "tests/benchmarks/run sdk-levers --requests " + requests + " --threads "
                    + threads + " --runs " + runs, tableText);
        }
        return 0;
    }

    private S3Client s3(Endpoint endpoint, Variant v) {
        var builder = AwsClients.s3Builder(endpoint, threads * 2, false, null);
        if (v.fixedEndpoint()) {
            builder.endpointProvider(FixedEndpoints.s3(endpoint.uri()));
        }
        if (v.http() != null) {
            builder.httpClientBuilder(v.http().get());
        }
        return builder.build();
    }

    private static DynamoDbClient dynamoDb(Endpoint endpoint, Variant v) {
        var builder = AwsClients.dynamoDbBuilder(endpoint);
        if (v.fixedEndpoint()) {
            builder.endpointProvider(FixedEndpoints.dynamoDb(endpoint.uri()));
        }
        if (v.http() != null) {
            builder.httpClientBuilder(v.http().get());
        }
        return builder.build();
    }

    private static double processCpuMicros() {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return os.getProcessCpuTime() / 1e3;
    }

    /** Microseconds of the calling threads' CPU per request, {@code requests} requests by {@code threads} threads. */
    private double perRequest(Runnable request) throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        AtomicLong cpuNanos = new AtomicLong();
        AtomicLong next = new AtomicLong();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    long start = mx.getCurrentThreadCpuTime();
                    while (next.getAndIncrement() < requests) {
                        request.run();
                    }
                    cpuNanos.addAndGet(mx.getCurrentThreadCpuTime() - start);
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                w.get();
            }
        }
        return cpuNanos.get() / 1000.0 / requests;
    }

    private static String table(Map<String, List<double[]>> measured) {
        StringBuilder out = new StringBuilder("Client CPU per request, microseconds (median of the runs; lower is better); the servers' CPU is not in it."
                + " The first four columns are the calling threads' CPU; 'whole JVM per S3 request' is the harness JVM's CPU over the"
                + " three S3 kinds divided by their requests (it counts a client's own threads, such as the CRT client's native event"
                + " loops, and the JVM's background: compare it between variants, not with the thread columns)\n\n");
        out.append("| setting changed (alone) | site HEAD | source GET 4 KiB | site PUT 4 KiB | DynamoDB UpdateItem | replicator's three | whole JVM per S3 request |\n");
        out.append("|---|---|---|---|---|---|---|\n");
        measured.forEach((name, rows) -> {
            double[] median = new double[5];
            for (int i = 0; i < 5; i++) {
                int column = i;
                median[i] = Stats.median(rows.stream().map(r -> r[column]).toList());
            }
            out.append(String.format("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |%n", name, median[0], median[1], median[2], median[4],
                    median[0] + median[1] + median[2], median[3]));
        });
        return out.toString();
    }
}
