package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.core.entry.MessageKeys;
import io.backbeatserverless.core.ops.FailedEntry;
import io.backbeatserverless.core.verify.SiteCounts;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.localstack.EmbeddedStack;
import io.backbeatserverless.localstack.FunctionProcess;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;
import software.amazon.awssdk.services.s3.model.Tag;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * A chaos run (issue 12): a mixed workload on a bucket replicated to two sites, while faults drawn from a printed
 * seed are injected, then verify on both sites as the oracle (each key's whole history at each site, in order). The
 * workload: new keys, overwrites of the same keys (their order matters), tagged puts, delete markers, a few multipart
 * objects, multipart uploads completed after a later put of their key, puts routed to one site by their tags, versions
 * deleted right after their put, and on the S3-events feed tag changes and messages that are no S3 event; with a short
 * replicator timeout, batches that end at their deadline put entries back (deferrals). The faults: SIGKILLs of the
 * populator, the status processor and each replicator (each function in a JVM of its own), the first site's S3 server
 * answering a share of requests 503 SlowDown or 500 and resetting a share of connections ({@code FaultInjector}) while
 * the workload and the kills run, Kafka broker restarts on the same log directory, the second site paused and resumed,
 * and poison records on the replication topic (bytes that do not decode, an entry naming a bucket that does not
 * exist, an oversized entry, an entry naming a site that is not configured). Prints the workload, the faults by kind, verify's counts per site, the poison records
 * accounted for and the time to settle; exits 1 if any version is missing, divergent or stuck, or a poison record
 * is not listed. dynalite is made unavailable once (connections cut, nothing listening, its tables kept).
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = "Mixed workload with random SIGKILLs, a paused site and poison records; verify says what was lost.")
final class ChaosRun implements Callable<Integer> {

    private static final String FIRST = "aws-location";
    private static final String SECOND = "second";

    @Option(names = "--seed", description = "the faults' and workload's random seed (default: from the clock, printed)")
    Long seed;
    @Option(names = "--operations", defaultValue = "2000", description = "writes in the workload (default: ${DEFAULT-VALUE})")
    int operations;
    @Option(names = "--kills", defaultValue = "12", description = "SIGKILLs spread over the functions (default: ${DEFAULT-VALUE})")
    int kills;
    @Option(names = "--poison", defaultValue = "6", description = "poison records published (default: ${DEFAULT-VALUE})")
    int poison;
    @Option(names = "--fault-503", defaultValue = "10", description = "percent of the first site's requests answered 503 SlowDown (default: ${DEFAULT-VALUE})")
    double fault503;
    @Option(names = "--fault-500", defaultValue = "0", description = "percent answered 500 InternalError (default: ${DEFAULT-VALUE})")
    double fault500;
    @Option(names = "--fault-reset", defaultValue = "5", description = "percent of its connections reset (default: ${DEFAULT-VALUE})")
    double faultReset;
    @Option(names = "--fault-delay", defaultValue = "0", description = "percent of its requests held --fault-delay-ms before the server sees them (default: ${DEFAULT-VALUE})")
    double faultDelay;
    @Option(names = "--fault-delay-ms", defaultValue = "65000", description = "how long a delayed request is held; the S3 clients' socket timeout is 60 s (default: ${DEFAULT-VALUE})")
    long faultDelayMs;
    @Option(names = "--broker-restarts", defaultValue = "1", description = "Kafka broker restarts during the run (default: ${DEFAULT-VALUE})")
    int brokerRestarts;
    @Option(names = "--dynamodb-outage-seconds", defaultValue = "10", description = "dynalite unavailable this long, once, at three quarters"
            + " of the kills; 0: no outage (default: ${DEFAULT-VALUE})")
    int dynamoDbOutageSeconds;
    @Option(names = "--results", defaultValue = "-", description = "page the table is written to (docs/reliability.md); '-' for none (default: ${DEFAULT-VALUE})")
    String results;
    @Option(names = "--settle-minutes", defaultValue = "10", description = "how long verify may take to find everything in place (default: ${DEFAULT-VALUE})")
    int settleMinutes;
    @Option(names = "--feed", defaultValue = "listing", description = "the populator's feed: listing, or s3-events (the source's event "
            + "notifications through SQS, as in AWS: tag changes replicate, and events go unreadable) (default: ${DEFAULT-VALUE})")
    String feed;
    @Option(names = "--backfill-operations", defaultValue = "0", description = "writes to the bucket before its rule is put, on the same"
            + " keys as the workload's: the listing feed replicates them as a backfill job (issue 29), a page at a time, while the live"
            + " workload, the kills and the faults run (default: ${DEFAULT-VALUE})")
    int backfillOperations;
    @Option(names = "--baseline-operations", defaultValue = "0", description = "writes to the bucket, to keys of their own,"
            + " before the faults and the kills: each site's fault-free rate, printed beside its rate while the faults run (issue 31)"
            + " (default: ${DEFAULT-VALUE})")
    int baselineOperations;
    @Option(names = "--auto-retry-minutes", defaultValue = "4", description = "how long the automatic retries of transient failures"
            + " (1 min, then 5 min, by default) may settle what verify found FAILED, before the operator's retry (default: ${DEFAULT-VALUE})")
    int autoRetryMinutes;
    @Option(names = "--invocations-at-once", defaultValue = "0", description = "each trigger's invocations at once, each on its own"
            + " partitions, as Lambda runs one per partition (eventSource.concurrency); 0: the configuration's (default: ${DEFAULT-VALUE})")
    int invocationsAtOnce;
    @Option(names = "--function-logs", description = "a directory where every line each function logs is written, one file per"
            + " function (with BACKBEAT_LOG_LEVEL=DEBUG, a line per version and stage): how a finding or a slow rate is traced")
    Path functionLogs;
    @Option(names = "--function-timeout-seconds", defaultValue = "0", description = "the replicators' Lambda timeout; short, their "
            + "batches end before their deadline and put entries back (deadline deferrals); 0: Lambda's 900 s (default: ${DEFAULT-VALUE})")
    long functionTimeoutSeconds;

    @Override
    public Integer call() throws Exception {
        long chosenSeed = seed != null ? seed : System.currentTimeMillis();
        System.out.printf("chaos run, seed %d (rerun with --seed %d)%n", chosenSeed, chosenSeed);
        Random random = new Random(chosenSeed);
        boolean events = switch (feed) {
            case "listing" -> false;
            case "s3-events" -> true;
            default -> throw new IllegalArgumentException("--feed is listing or s3-events, not " + feed);
        };
        BackbeatConfig config = EmbeddedStack.onFreePorts(BackbeatConfig.load(Path.of(events ? "localstack/backbeat-s3-events.json"
                : "localstack/backbeat.json")));
        if (functionTimeoutSeconds > 0) {
            var eventSource = config.eventSource();
            config = config.withEventSource(new BackbeatConfig.EventSourceSettings(eventSource.batchSize(), eventSource.batchWindowMs(),
                    functionTimeoutSeconds));
        }
        if (invocationsAtOnce > 0) {
            config = config.withEventSource(config.eventSource().withConcurrency(invocationsAtOnce));
        }
        SiteConfig first = config.requireSite(FIRST);
        // The second site on an S3 server of its own, so the faults injected at the first one leave it alone.
        config = config.withAddedSites(List.of(new SiteConfig(SECOND, SiteConfig.TYPE_AWS_S3,
                first.endpoint().withPort(io.backbeatserverless.localstack.EmbeddedKafka.freePort()), "second-bucket", true)));
        BackbeatConfig.OpsSettings ops = config.ops();
        config = config.withOps(new BackbeatConfig.OpsSettings(ops.port(), ops.credentials(), ops.failedEntryRetentionHours(),
                ops.eventSourceMappings(), 5_000, 500));
        EmbeddedStack.Options defaults = EmbeddedStack.Options.defaults();
        Map<String, Integer> faults = new LinkedHashMap<>();
        try (EmbeddedStack stack = EmbeddedStack.start(config, new EmbeddedStack.Options(defaults.localstackDir(), "2g", "1g", Set.of(), null)
                .withFunctionsInProcesses(true));
             S3Client source = AwsClients.s3(config.source().endpoint(), 16)) {
            String bucket = "chaos-" + Long.toHexString(chosenSeed);
            source.createBucket(r -> r.bucket(bucket));
            source.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
            Map<String, Integer> backfilled = new LinkedHashMap<>();
            if (backfillOperations > 0) {
                write(source, bucket, new Random(random.nextLong()), backfilled, events, backfillOperations);
                System.out.printf("written before the rule (a backfill job's): %s%n", new java.util.TreeMap<>(backfilled));
            }
            replicateToBothSites(source, bucket);
            // What the functions say they did that the faults and the workload were meant to cause.
            Map<String, java.util.concurrent.atomic.AtomicLong> seen = new java.util.concurrent.ConcurrentHashMap<>();
            for (String replicator : List.of("replicator-" + FIRST, "replicator-" + SECOND)) {
                stack.function(replicator).watch(line -> {
                    var deferred = DEFERRED.matcher(line);
                    if (deferred.find()) {
                        seen.computeIfAbsent("entries put back (at the deadline, or set aside)", k -> new java.util.concurrent.atomic.AtomicLong())
                                .addAndGet(Long.parseLong(deferred.group(1)));
                    }
                    // One line per version set aside, on the live path and in backfill pages alike.
                    if (line.contains(" set aside after ")) {
                        seen.computeIfAbsent("versions set aside for their retries", k -> new java.util.concurrent.atomic.AtomicLong())
                                .incrementAndGet();
                    }
                });
            }
            if (functionLogs != null) {
                java.nio.file.Files.createDirectories(functionLogs);
                for (String function : List.of("populator", "status", "replicator-" + FIRST, "replicator-" + SECOND)) {
                    var out = new java.io.PrintWriter(java.nio.file.Files.newBufferedWriter(functionLogs.resolve(function + ".log")), true);
                    stack.function(function).watch(line -> {
                        synchronized (out) {
                            out.println(line);
                        }
                    });
                }
            }
            stack.function("populator").watch(line -> {
                if (line.contains("unreadable (")) {
                    seen.computeIfAbsent("versions queued with their tags unreadable", k -> new java.util.concurrent.atomic.AtomicLong())
                            .incrementAndGet();
                }
            });

            SiteRates rates = new SiteRates(stack, List.of(FIRST, SECOND));
            Map<String, SiteRates.Rate> faultFree = baselineOperations > 0 ? faultFreeRates(stack, source, bucket, random, events, rates) : null;
            String faultPlan = String.format(java.util.Locale.ROOT, "503=%s 500=%s reset=%s delay=%s delay-ms=%d seed=%d", fault503, fault500,
                    faultReset, faultDelay, faultDelayMs, random.nextLong());
            stack.injectS3Faults(FIRST, faultPlan);
            Instant started = Instant.now();
            Map<String, Integer> workload = new LinkedHashMap<>();
            Random workloadRandom = new Random(random.nextLong());
            CompletableFuture<Instant> writes = CompletableFuture.supplyAsync(() -> {
                write(source, bucket, workloadRandom, workload, events, operations);
                return Instant.now();
            });
            if (events) {
                sendUndecodableEvents(config, poison);
                faults.merge("messages in the events queue that are no S3 event", poison, Integer::sum);
            }
            List<String> functions = new ArrayList<>(List.of("populator", "status", "replicator-" + FIRST, "replicator-" + SECOND));
            int poisoned = 0;
            int restarts = 0;
            boolean paused = false;
            for (int k = 0; k < kills; k++) {
                if (restarts < brokerRestarts && k >= (long) kills * (restarts + 1) / (brokerRestarts + 1)) {
                    long restartStarted = System.nanoTime();
                    stack.restartKafka();
                    restarts++;
                    faults.merge("Kafka broker restart", 1, Integer::sum);
                    System.out.printf("Kafka broker restarted in %.1f s%n", (System.nanoTime() - restartStarted) / 1e9);
                }
                Thread.sleep(500 + random.nextInt(2_500));
                FunctionProcess victim = stack.function(functions.get(random.nextInt(functions.size())));
                victim.kill();
                faults.merge("SIGKILL " + victim.name(), 1, Integer::sum);
                Thread.sleep(random.nextInt(1_500));
                victim.restart();
                if (dynamoDbOutageSeconds > 0 && k == kills * 3 / 4) {
                    stack.makeDynamoDbUnavailable(Duration.ofSeconds(dynamoDbOutageSeconds));
                    faults.merge("DynamoDB (dynalite) unavailable for " + dynamoDbOutageSeconds + " s", 1, Integer::sum);
                }
                if (k == kills / 4) {
                    stack.ops().service().pause(SECOND);
                    paused = true;
                    faults.merge("site " + SECOND + " paused and resumed", 1, Integer::sum);
                }
                if (paused && k == kills / 2) {
                    stack.ops().service().resume(SECOND);
                    paused = false;
                }
                if (poisoned < poison && random.nextInt(3) == 0) {
                    publishPoison(config, bucket, poisoned++);
                    faults.merge("poison record", 1, Integer::sum);
                }
            }
            if (paused) {
                stack.ops().service().resume(SECOND);
            }
            while (poisoned < poison) {
                publishPoison(config, bucket, poisoned++);
                faults.merge("poison record", 1, Integer::sum);
            }
            Instant written = writes.get();
            // The destination recovers: what it injected while the workload and the kills ran.
            String injected = stack.injectS3Faults(FIRST, "off").replaceFirst("^FAULTS \\S+ ", "").replaceFirst(" \\(plan:.*", "");
            Instant faultsDone = rates.sampleNow();
            Map<String, SiteRates.Rate> duringFaults = rates.between(started, faultsDone);
            rates.close();

            VerifyRun run = VerifySettle.settle(stack, bucket, List.of(FIRST, SECOND), Duration.ofMinutes(settleMinutes));
            Duration settled = Duration.between(written.isAfter(faultsDone) ? written : faultsDone, Instant.now());
            Instant verifiedClean = Instant.now();
            long poisonListed = poisonAccounted(stack, poison, Duration.ofMinutes(settleMinutes));
            Duration poisonWait = Duration.between(verifiedClean, Instant.now());
            StringBuilder table = new StringBuilder();
            table.append(String.format("seed %d, %s feed%s: workload %s, %d operations in %.0f s%n", chosenSeed, feed,
                    functionTimeoutSeconds > 0 ? ", replicators timing out after " + functionTimeoutSeconds + " s" : "",
                    new java.util.TreeMap<>(workload), operations, Duration.between(started, written).toMillis() / 1000.0));
            if (backfillOperations > 0) {
                table.append(String.format("written before the rule, replicated by backfill job: %s%n", new java.util.TreeMap<>(backfilled)));
                try (var dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint())) {
                    for (var job : new io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore(dynamo, config.dynamodb().tables().status())
                            .list(10)) {
                        if (job.bucket().equals(bucket)) {
                            table.append(String.format("backfill job %s: %s, %d pages, %d versions listed, %d queued; by site %s%n", job.id(),
                                    job.effectiveState(), job.pagesListed(), job.scanned(), job.queued(), new java.util.TreeMap<>(job.bySite())));
                        }
                    }
                }
            }
            table.append(String.format("the functions said: %s%n", new java.util.TreeMap<>(seen)));
            table.append(String.format("each site's rate (versions settled per second) while the writes and the faults ran: %s%n", duringFaults));
            if (faultFree != null) {
                table.append(String.format("the same sites' fault-free rate (%d writes first, to keys of their own, no fault, no kill): %s; "
                        + "ratio during the faults: %s%n", baselineOperations, faultFree, ratios(duringFaults, faultFree)));
            }
            table.append(String.format("faults: %s%n", new java.util.TreeMap<>(faults)));
            table.append(String.format("destination faults at %s while the workload and the kills ran (plan %s): %s%n%n", FIRST,
                    faultPlan.replaceFirst(" seed=.*", ""), injected));
            table.append("| site | expected | identical | in flight | missing | divergent | out of order | stuck | failed | skipped | extra |\n");
            table.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
            new java.util.TreeMap<>(run.bySite()).forEach((site, c) -> table.append(String.format("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |%n",
                    site, c.expected(), c.identical(), c.inFlight(), c.missing(), c.divergent(), c.outOfOrder(), c.stuck(), c.failed(),
                    c.skipped(), c.extra())));
            // Every finding but the SKIPPED ones, which are counted by their reason (superseded versions run to thousands
            // when a backfill races live writes of the same keys; each stays listed and retryable in the run's findings).
            Map<String, Integer> skippedBy = new java.util.TreeMap<>();
            Set<String> keysToShow = new java.util.TreeSet<>();
            for (String site : List.of(FIRST, SECOND)) {
                String marker = null;
                do {
                    var page = stack.ops().service().verifyFindings(run.id(), site, marker);
                    for (var finding : page.findings()) {
                        if (finding.kind() == io.backbeatserverless.core.verify.Finding.Kind.SKIPPED) {
                            skippedBy.merge(site + ": " + finding.detail().replaceAll("\\(source version [^)]*\\)", "(...)"), 1, Integer::sum);
                            continue;
                        }
                        table.append(String.format("%nfinding %s at %s: %s %s: %s", finding.kind(), site, finding.key(), finding.versionId(),
                                finding.detail()));
                        if (finding.kind() != io.backbeatserverless.core.verify.Finding.Kind.FAILED) {
                            keysToShow.add(finding.key());
                        }
                    }
                    marker = page.nextMarker();
                } while (marker != null);
            }
            skippedBy.forEach((reason, count) -> table.append(String.format("%nSKIPPED at %s: %d", reason, count)));
            table.append(String.format("%n"));
            // The evidence of each key found wrong, printed (not written to the results page): what the next reader needs to
            // trace it once the stack is gone (found needed: a marker missing at both sites could not be traced afterwards).
            keysToShow.stream().limit(10).forEach(key -> System.out.println(KeyEvidence.of(stack, source, bucket, key, List.of(FIRST, SECOND))));
            if (run.total().failed() > 0) {
                // Issue 31: a version FAILED for a transient cause is retried on its own (its site's schedule, 1 min first):
                // give the automatic retries their first rounds before doing what an operator would.
                long failedBefore = run.total().failed();
                run = VerifySettle.settle(stack, bucket, List.of(FIRST, SECOND), Duration.ofMinutes(autoRetryMinutes),
                        r -> r.clean() && r.total().inFlight() == 0 && r.total().failed() == 0);
                table.append(String.format("%nFAILED when verify first settled: %d; FAILED after up to %d min of automatic retries (no operator): %d%n",
                        failedBefore, autoRetryMinutes, run.total().failed()));
            }
            if (run.total().failed() > 0) {
                // FAILED is visible and retryable, not the end: do what an operator does (ops failed retry --all), then look again.
                int retried = 0;
                for (String site : List.of(FIRST, SECOND)) {
                    retried += stack.ops().service().retryAll(site).retried();
                }
                VerifyRun afterRetry = VerifySettle.settle(stack, bucket, List.of(FIRST, SECOND), Duration.ofMinutes(settleMinutes));
                table.append(String.format("%nafter an operator's retry of the %d failed entries (ops failed retry --all): %s%n", retried,
                        new java.util.TreeMap<>(afterRetry.bySite()).entrySet().stream().map(e -> String.format("%s identical %d of %d, failed %d, skipped %d, missing %d",
                                e.getKey(), e.getValue().identical(), e.getValue().expected(), e.getValue().failed(), e.getValue().skipped(),
                                e.getValue().missing())).toList()));
                run = afterRetry;
            }
            table.append(String.format("%npoison records accounted for (a failed entry, or an outcome, with its reason): %d of %d, %d s after verify settled%n",
                    poisonListed, poison, poisonWait.toSeconds()));
            long deadLetters = events ? deadLetters(stack, poison, Duration.ofMinutes(settleMinutes)) : poison;
            if (events) {
                table.append(String.format("messages that are no S3 event in the events queue's dead-letter queue: %d of %d%n", deadLetters, poison));
            }
            table.append(String.format("settled (verify clean, nothing in flight) %.0f s after the last write and the last fault%n",
                    settled.toMillis() / 1000.0));
            System.out.println();
            System.out.println(table);
            if (!"-".equals(results)) {
                // A run measuring rates (issue 31) has a section of its own, beside the seed's chaos run.
                ResultsPage.write(Path.of(results), (baselineOperations > 0 ? "slow-site-seed-" : "chaos-seed-") + chosenSeed, "tests/benchmarks/run chaos --seed " + chosenSeed + " --operations "
                        + operations + " --kills " + kills + " --poison " + poison + " --fault-503 " + fault503 + " --fault-reset " + faultReset
                        + " --broker-restarts " + brokerRestarts + " --dynamodb-outage-seconds " + dynamoDbOutageSeconds + " --feed " + feed
                        + " --function-timeout-seconds " + functionTimeoutSeconds + (invocationsAtOnce > 0 ? " --invocations-at-once "
                        + invocationsAtOnce : "") + " --fault-delay " + faultDelay + " --fault-delay-ms " + faultDelayMs
                        + (baselineOperations > 0 ? " --baseline-operations " + baselineOperations : "") + (backfillOperations > 0 ? " --backfill-operations "
                        + backfillOperations : ""), table.toString());
            }
            SiteCounts total = run.total();
            boolean lost = total.missing() + total.divergent() + total.outOfOrder() + total.stuck() > 0 || !run.clean();
            return lost || poisonListed < poison || deadLetters < poison ? 1 : 0;
        }
    }

    /**
     * Every key to both sites; keys under tagged/ carrying route=first to the first site alone (a rule on tags: the
     * populator reads each such version's tags to choose its rule, and verify reads them to know where it belongs).
     */
    private static void replicateToBothSites(S3Client source, String bucket) {
        source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                .role("arn:aws:iam::root:role/chaos").rules(
                        rule -> rule.id("tagged-first").priority(2).status(ReplicationRuleStatus.ENABLED)
                                .filter(f -> f.and(a -> a.prefix(TAGGED).tags(Tag.builder().key("route").value("first").build())))
                                .deleteMarkerReplication(d -> d.status("Enabled"))
                                .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass(FIRST)),
                        rule -> rule.id("everything").priority(1).status(ReplicationRuleStatus.ENABLED).filter(f -> f.prefix(""))
                                .deleteMarkerReplication(d -> d.status("Enabled"))
                                .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass(FIRST + "," + SECOND))).build()));
    }

    /**
     * The fault-free rates: {@code baselineOperations} writes to keys of their own (under {@code baseline-}; the second site
     * keeps every source bucket's keys in one bucket, so a bucket of their own would read there as another's), before any
     * fault or kill; each site's rate while they are written, then verify until both sites have them all.
     */
    private Map<String, SiteRates.Rate> faultFreeRates(EmbeddedStack stack, S3Client source, String bucket, Random random, boolean events,
                                                       SiteRates rates) throws InterruptedException {
        // Like for like: the chaos writes that follow go down the live path, so these must too. Written while the feed first
        // meets the bucket, they would go as the bucket's backfill job instead (pages, and their race with live entries).
        awaitBackfillJobDone(stack.config(), bucket, Duration.ofMinutes(2));
        Map<String, Integer> written = new LinkedHashMap<>();
        Instant from = rates.sampleNow();
        write(source, bucket, new Random(random.nextLong()), written, events, baselineOperations, "baseline-");
        Map<String, SiteRates.Rate> faultFree = rates.between(from, rates.sampleNow());
        System.out.printf("fault-free: %s written, rates %s%n", new java.util.TreeMap<>(written), faultFree);
        VerifyRun run = VerifySettle.settle(stack, bucket, List.of(FIRST, SECOND), Duration.ofMinutes(settleMinutes));
        if (!run.clean()) {
            for (String site : List.of(FIRST, SECOND)) {
                for (var finding : stack.ops().service().verifyFindings(run.id(), site, null).findings()) {
                    if (finding.kind() != io.backbeatserverless.core.verify.Finding.Kind.SKIPPED) {
                        System.out.printf("finding %s at %s: %s %s: %s%n", finding.kind(), site, finding.key(), finding.versionId(), finding.detail());
                        System.out.println(KeyEvidence.of(stack, source, bucket, finding.key(), List.of(FIRST, SECOND)));
                    }
                }
            }
            throw new IllegalStateException("the fault-free writes did not settle: " + run.bySite());
        }
        return faultFree;
    }

    /** Waits until the feed has met the bucket and its backfill job (of what the bucket held then) is done. */
    private static void awaitBackfillJobDone(BackbeatConfig config, String bucket, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        try (var dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint())) {
            var jobs = new io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore(dynamo, config.dynamodb().tables().status());
            while (jobs.list(20).stream().noneMatch(job -> job.bucket().equals(bucket)
                    && job.effectiveState() == io.backbeatserverless.core.backfill.BackfillJob.State.DONE)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the feed did not meet bucket " + bucket + " within " + within);
                }
                Thread.sleep(250);
            }
        }
    }

    private static Map<String, String> ratios(Map<String, SiteRates.Rate> measured, Map<String, SiteRates.Rate> faultFree) {
        Map<String, String> ratios = new LinkedHashMap<>();
        measured.forEach((site, rate) -> ratios.put(site, String.format(java.util.Locale.ROOT, "%.0f %%",
                100 * rate.perSecond() / faultFree.get(site).perSecond())));
        return ratios;
    }

    private static final int WRITERS = 8;

    /**
     * The workload: {@code operations} writes drawn from the seed to a key space a quarter of their number, by
     * {@value #WRITERS} writers; each key belongs to one writer, so its versions come in the order drawn.
     */
    /** {@code count} writes over the workload's keys (a quarter as many keys as {@code --operations}). */
    private void write(S3Client source, String bucket, Random random, Map<String, Integer> done, boolean events, int count) {
        write(source, bucket, random, done, events, count, "");
    }

    /**
     * @param keyPrefix before each key's name: the fault-free writes' keys differ from the chaos bucket's, since the second
     *                  site keeps every source bucket's keys in one bucket (bucketMatch)
     */
    private void write(S3Client source, String bucket, Random random, Map<String, Integer> done, boolean events, int count, String keyPrefix) {
        int keys = Math.max(1, operations / 4);
        List<List<int[]>> byWriter = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            byWriter.add(new ArrayList<>());
        }
        for (int i = 0; i < count; i++) {
            int key = random.nextInt(keys);
            byWriter.get(key % WRITERS).add(new int[] {key, random.nextInt(100), random.nextInt(9)});
        }
        Map<String, Integer> counts = new java.util.concurrent.ConcurrentHashMap<>();
        try {
            LoadGenerator.burst(WRITERS, WRITERS, w -> {
                for (int[] op : byWriter.get(w)) {
                    writeOne(source, bucket, keyPrefix + String.format("k%05d", op[0]), op[1], op[2], counts, events);
                }
            });
        } catch (Exception e) {
            throw new IllegalStateException("the workload stopped: " + e.getMessage(), e);
        }
        done.putAll(counts);
    }

    /**
     * One write, by the dice: a put, a delete marker, a tagged put, a change of the latest version's tags (on the S3-events
     * feed, which sees them), a put under {@code tagged/} routed by its tags, a version deleted for good right after its
     * put (its event then names a version whose tags cannot be read: gone), a multipart upload completed after a plain
     * put of the same key (the newer version, whose Last-Modified, its initiation, is the older), a multipart object.
     */
    private static void writeOne(S3Client source, String bucket, String key, int dice, int tag, Map<String, Integer> done, boolean events) {
        try {
            if (dice < 50 || (dice >= 80 && dice < 86 && !events)) {
                source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString(key + "@" + System.nanoTime()));
                done.merge("puts", 1, Integer::sum);
            } else if (dice < 63) {
                source.deleteObject(r -> r.bucket(bucket).key(key));
                done.merge("delete markers", 1, Integer::sum);
            } else if (dice < 80) {
                source.putObject(r -> r.bucket(bucket).key(key).tagging("round=" + tag), RequestBody.fromString(key + "@" + System.nanoTime()));
                done.merge("tagged puts", 1, Integer::sum);
            } else if (dice < 86) {
                source.putObjectTagging(r -> r.bucket(bucket).key(key).tagging(t -> t.tagSet(Tag.builder().key("round").value("changed-" + tag).build())));
                done.merge("tag changes", 1, Integer::sum);
            } else if (dice < 92) {
                String routed = TAGGED + key;
                source.putObject(r -> r.bucket(bucket).key(routed).tagging("route=" + (tag % 2 == 0 ? "first" : "both")),
                        RequestBody.fromString(routed + "@" + System.nanoTime()));
                done.merge("puts routed by their tags", 1, Integer::sum);
            } else if (dice < 95) {
                String gone = TAGGED + "gone-" + key;
                String version = source.putObject(r -> r.bucket(bucket).key(gone).tagging("route=first"), RequestBody.fromString(gone)).versionId();
                source.deleteObject(r -> r.bucket(bucket).key(gone).versionId(version));
                done.merge("versions deleted right after their put", 1, Integer::sum);
            } else if (dice < 98) {
                String upload = source.createMultipartUpload(r -> r.bucket(bucket).key(key)).uploadId();
                source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString(key + "@" + System.nanoTime()));
                complete(source, bucket, key, upload);
                done.merge("multipart completed after a later put", 1, Integer::sum);
            } else {
                multipart(source, bucket, "mpu/" + key);
                done.merge("multipart objects", 1, Integer::sum);
            }
        } catch (RuntimeException e) {
            done.merge("refused by the source", 1, Integer::sum);
        }
    }

    private static final String TAGGED = "tagged/";
    /** The replicator's line when a batch puts entries back: "site x: 3 entries deferred to the next invocation". */
    private static final java.util.regex.Pattern DEFERRED = java.util.regex.Pattern.compile("(\\d+) entries deferred to the next invocation");

    private static void multipart(S3Client source, String bucket, String key) {
        complete(source, bucket, key, source.createMultipartUpload(r -> r.bucket(bucket).key(key)).uploadId());
    }

    private static void complete(S3Client source, String bucket, String key, String upload) {
        List<CompletedPart> parts = new ArrayList<>();
        for (int n = 1; n <= 2; n++) {
            int number = n;
            byte[] part = new byte[n == 1 ? 5 << 20 : 1 << 20];
            new Random(key.hashCode() + n).nextBytes(part);
            parts.add(CompletedPart.builder().partNumber(n).eTag(source.uploadPart(r -> r.bucket(bucket).key(key).uploadId(upload)
                    .partNumber(number), RequestBody.fromBytes(part)).eTag()).build());
        }
        source.completeMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(upload).multipartUpload(m -> m.parts(parts)));
    }

    /**
     * In turn: bytes that do not decode, an entry naming a bucket that does not exist, an oversized entry (900 KB of
     * user metadata, near Kafka's default 1 MB record limit) naming a bucket that does not exist, and an entry naming a
     * site no replicator serves (a site removed while its entries were queued); on the bucket's partitions.
     */
    private static void publishPoison(BackbeatConfig config, String bucket, int n) {
        String messageKey = MessageKeys.forObject(bucket, "poison-" + n);
        byte[] value = switch (n % POISON_KINDS) {
            case 0 -> ("not an entry " + n).getBytes(StandardCharsets.UTF_8);
            case 1 -> unknownBucketEntry(n, 0, List.of(FIRST, SECOND)).getBytes(StandardCharsets.UTF_8);
            case 2 -> unknownBucketEntry(n, 900_000, List.of(FIRST, SECOND)).getBytes(StandardCharsets.UTF_8);
            default -> unknownBucketEntry(n, 0, List.of(REMOVED)).getBytes(StandardCharsets.UTF_8);
        };
        try (EntryPublisher publisher = EntryPublisher.connect(config.kafka().bootstrapServers(), "chaos-poison")) {
            publisher.publishAll(List.of(new ProducerRecord<>(config.kafka().replicationTopic(), messageKey, value)));
        }
    }

    /** Messages in the S3-events queue that are no S3 event: the populator leaves them to the queue's redrive policy. */
    private static void sendUndecodableEvents(BackbeatConfig config, int count) {
        String queue = config.source().feed().url();
        try (var sqs = io.backbeatserverless.adapters.aws.SqsQueues.client(queue, config.source().endpoint())) {
            for (int n = 0; n < count; n++) {
                int number = n;
                sqs.sendMessage(r -> r.queueUrl(queue).messageBody("{\"not\":\"an S3 event " + number + "\"}"));
            }
        }
    }

    /** The events queue's dead letters once there are {@code expected} of them (5 receives each), or when {@code within} runs out. */
    private static long deadLetters(EmbeddedStack stack, int expected, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        long now;
        do {
            now = ((Number) stack.ops().api().sourceEvents().status().get("DeadLetters")).longValue();
            if (now >= expected) {
                return now;
            }
            Thread.sleep(2_000);
        } while (System.nanoTime() < deadline);
        return now;
    }

    /** An entry for both sites whose bucket does not exist at the source (as a stale or forged entry would be). */
    private static String unknownBucketEntry(int n, int metadataBytes, List<String> sites) {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var metadata = json.createObjectNode().put("key", "poison-" + n).put("versionId", POISON_VERSION).put("content-length", 1);
        if (metadataBytes > 0) {
            metadata.put("x-amz-meta-oversized", "x".repeat(metadataBytes));
        }
        var info = metadata.putObject("replicationInfo").put("status", "PENDING");
        var backends = info.putArray("backends");
        for (String site : sites) {
            backends.addObject().put("site", site).put("status", "PENDING").put("dataStoreVersionId", "");
        }
        info.putArray("content").add("DATA").add("METADATA");
        info.put("storageClass", String.join(",", sites));
        return json.createObjectNode().put("type", "put").put("bucket", "no-such-bucket-" + n)
                .put("key", "poison-" + n + "\u0000" + POISON_VERSION).put("value", metadata.toString()).toString();
    }

    private static final String POISON_VERSION = "98765432109876543210RG001  0";
    private static final int POISON_KINDS = 4;
    /** A site the poison names that the deployment does not have. */
    private static final String REMOVED = "removed-site";

    /**
     * Poison records accounted for: an undecodable one listed as a failed entry with its reason (at some site); one
     * naming a bucket that does not exist given an outcome with its reason at both sites (the version is gone: the
     * only case that may be skipped, and an operator can still force a retry); one naming a site that is not configured
     * given a FAILED outcome with its reason there.
     */
    /**
     * {@link #poisonListed} once every poison record is accounted for, or when {@code within} runs out: verify covers
     * real versions only, so a site still working through its partitions when verify is clean (duplicates after a
     * restart, or just slow) has not recorded its poison outcomes yet. Read once, that showed as "6 of 8".
     */
    private static long poisonAccounted(EmbeddedStack stack, int poison, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (poisonListed(stack, poison, false) < poison && System.nanoTime() < deadline) {
            Thread.sleep(2_000);
        }
        return poisonListed(stack, poison, true); // read again, printed: the figure reported is the one shown
    }

    private static long poisonListed(EmbeddedStack stack, int poison, boolean print) {
        Set<String> malformed = new java.util.HashSet<>();
        for (String site : List.of(FIRST, SECOND)) {
            String marker = null;
            do {
                var page = stack.ops().service().listFailed(site, marker);
                for (FailedEntry entry : page.entries()) {
                    if (entry.bucket().equals("(malformed)") && entry.reason() != null && !entry.reason().isBlank()) {
                        malformed.add(entry.objectKey());
                    }
                }
                marker = page.truncated() ? page.nextMarker() : null;
            } while (marker != null);
        }
        long accounted = malformed.size();
        for (int n = 0; n < poison; n++) {
            if (n % POISON_KINDS == 0) {
                continue; // undecodable: counted above
            }
            var status = stack.ops().service().versionStatus("no-such-bucket-" + n, "poison-" + n, POISON_VERSION);
            List<String> named = n % POISON_KINDS == 3 ? List.of(REMOVED) : List.of(FIRST, SECOND);
            boolean both = status.isPresent() && named.stream().allMatch(site -> {
                var outcome = status.get().sites().get(site);
                return outcome != null && outcome.status() != io.backbeatserverless.core.status.ReplicationStatus.PENDING
                        && outcome.reason() != null && !outcome.reason().isBlank();
            });
            if (print) {
                System.out.printf("poison %d (%s): %s%n", n, switch (n % POISON_KINDS) {
                            case 1 -> "bucket that does not exist";
                            case 2 -> "oversized, bucket that does not exist";
                            default -> "site that is not configured";
                        },
                        status.map(v -> v.sites().toString()).orElse("no status"));
            }
            accounted += both ? 1 : 0;
        }
        return accounted;
    }
}
