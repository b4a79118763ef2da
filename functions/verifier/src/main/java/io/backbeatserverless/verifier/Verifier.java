package io.backbeatserverless.verifier;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.aws.BucketRules;
import io.backbeatserverless.adapters.cloudserver.CloudServerBackbeatRoutes;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbFailedEntryStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbVerifyRunStore;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.adapters.kafka.KafkaReplicationQueue;
import io.backbeatserverless.core.ops.Requeue;
import io.backbeatserverless.core.verify.VerifyRunStore;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import software.amazon.awssdk.services.s3.S3Client;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Verify wired from a configuration: the engine on the source and every site, its store of runs, and their clients. */
public final class Verifier implements AutoCloseable {

    private final VerifyRunStore runs;
    private final VerifyEngine engine;
    private final Clock clock;
    private final List<AutoCloseable> resources;

    private Verifier(VerifyRunStore runs, VerifyEngine engine, Clock clock, List<AutoCloseable> resources) {
        this.runs = runs;
        this.engine = engine;
        this.clock = clock;
        this.resources = resources;
    }

    public static Verifier create(BackbeatConfig config, Clock clock) {
        List<AutoCloseable> resources = new ArrayList<>();
        BackbeatConfig.OpsSettings ops = config.ops();
        RateLimiter limiter = RateLimiter.of("verify", RateLimiterConfig.custom().limitForPeriod(ops.verifyRequestsPerSecond())
                .limitRefreshPeriod(Duration.ofSeconds(1)).timeoutDuration(Duration.ofMinutes(5)).build());
        S3Client source = AwsClients.s3(config.source().endpoint(), 32);
        resources.add(source);
        Map<String, VersionStore> sites = new LinkedHashMap<>();
        Map<String, Boolean> compareEtags = new LinkedHashMap<>();
        Map<String, S3Client> siteClients = new LinkedHashMap<>();
        for (SiteConfig site : config.sites()) {
            S3Client client = AwsClients.s3(site.endpoint(), 32);
            resources.add(client);
            siteClients.put(site.name(), client);
            sites.put(site.name(), new VersionStore(client, limiter, clock));
            compareEtags.put(site.name(), site.verifyEtagMd5());
        }
        var dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint());
        resources.add(dynamo);
        var tables = config.dynamodb().tables();
        var statuses = new DynamoDbReplicationStatusStore(dynamo, tables.status(), clock);
        EntryPublisher publisher = EntryPublisher.connect(config.kafka(), "backbeat-verifier");
        resources.addFirst(publisher);
        Requeue requeue = new Requeue(new KafkaReplicationQueue(publisher, config.kafka().replicationTopic()), statuses,
                new DynamoDbFailedEntryStore(dynamo, tables.failedEntries()), new DynamoDbMetricsStore(dynamo, tables.metrics()), clock);
        boolean cloudServer = BackbeatConfig.SourceConfig.TYPE_CLOUDSERVER.equals(config.source().type());
        RepairEntries repairs;
        if (cloudServer) {
            CloudServerBackbeatRoutes routes = new CloudServerBackbeatRoutes(config.source().endpoint(), 8);
            resources.add(routes);
            repairs = RepairEntries.fromCloudServer(routes);
        } else {
            repairs = RepairEntries.fromListing();
        }
        VerifyEngine engine = new VerifyEngine(new VersionStore(source, limiter, clock), sites, config.sites(),
                BucketRules.forSource(config, source, dynamo), statuses, requeue, repairs, config.source()::statusVersionId, compareEtags,
                ops.verifyPageSize(), new DynamoDbBackfillJobStore(dynamo, tables.status()),
                ops.verifyInventory() == null ? null : new InventoryInput(ops.verifyInventory(), source, siteClients), clock);
        return new Verifier(new DynamoDbVerifyRunStore(dynamo, tables.verify()), engine, clock, resources);
    }

    public VerifyRunStore runs() {
        return runs;
    }

    /** A worker of runs; {@code owner} names it in the runs' leases. */
    public VerifyWorker worker(String owner) {
        return new VerifyWorker(runs, engine, owner, clock);
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable resource : resources) {
            resource.close();
        }
    }
}
