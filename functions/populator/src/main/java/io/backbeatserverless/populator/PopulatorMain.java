package io.backbeatserverless.populator;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.aws.BucketRules;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbCheckpointStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;

import java.time.Clock;
import java.time.Duration;

/**
 * The populator container's entry point (ECS Fargate in AWS, a thread of the embedded stack
 * locally): configuration from {@code BACKBEAT_CONFIG} / {@code BACKBEAT_CONFIG_JSON}.
 */
public final class PopulatorMain {

    /** Versions per backfill page: ListObjectVersions' own page, and a Kafka entry of some 100-300 KB. */
    static final int BACKFILL_PAGE_SIZE = 1000;

    /** A page as large as the listing feed's (its batch size) on that feed, else {@value #BACKFILL_PAGE_SIZE}. */
    static int backfillPageSize(BackbeatConfig config) {
        var feed = config.source().feed();
        return feed != null && BackbeatConfig.FeedSettings.LISTING.equals(feed.type()) ? Math.min(BACKFILL_PAGE_SIZE, feed.batchSize())
                : BACKFILL_PAGE_SIZE;
    }

    private PopulatorMain() {
    }

    public static void main(String[] args) throws Exception {
        Running running = start(BackbeatConfig.fromEnvironment(System.getenv()), Clock.systemUTC());
        String healthPort = System.getenv().getOrDefault("BACKBEAT_POPULATOR_HEALTH_PORT", "8901");
        // A container sets BACKBEAT_POPULATOR_HEALTH_HOST=0.0.0.0 for its health check; elsewhere it stays on loopback.
        PopulatorHealthServer health = new PopulatorHealthServer(System.getenv().getOrDefault("BACKBEAT_POPULATOR_HEALTH_HOST", "127.0.0.1"),
                Integer.parseInt(healthPort), running,
                java.time.Duration.ofSeconds(Long.parseLong(System.getenv().getOrDefault("BACKBEAT_POPULATOR_STALL_SECONDS", "300"))));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            health.close();
            running.close();
        }));
        running.join();
    }

    /** Builds the populator for {@code config} and runs it on its own thread. */
    public static Running start(BackbeatConfig config, Clock clock) {
        S3Client source = AwsClients.s3(config.source().endpoint(), 16);
        DynamoDbClient dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint());
        EntryPublisher publisher = EntryPublisher.connect(config.kafka(), "backbeat-populator");
        // One reader of the buckets' rules and one metrics store for the feed and the backfill lister both.
        BucketRules rules = BucketRules.forSource(config, source, dynamo);
        DynamoDbMetricsStore metrics = new DynamoDbMetricsStore(dynamo, config.dynamodb().tables().metrics());
        ChangeFeed feed = feedFor(config, source, dynamo, rules, clock);
        Populator populator = new Populator(feed, publisher, config.kafka().replicationTopic(), config.siteNames(),
                Duration.ofMillis(config.source().feed().intervalMs()), metrics, clock);
        Thread thread = Thread.ofPlatform().name("populator").start(populator);
        // Backfill jobs (issue 29) are listed beside the feed, on a thread of their own: a job's pages never wait behind
        // the feed's batches, nor its batches behind a job.
        BackfillLister lister = new BackfillLister(source, rules,
                new DynamoDbBackfillJobStore(dynamo, config.dynamodb().tables().status()), publisher, config.kafka().replicationTopic(),
                config.siteNames(), backfillPageSize(config), Duration.ofMillis(Math.min(1000, config.source().feed().intervalMs())),
                metrics, clock, config.source()::statusVersionId);
        Thread listerThread = Thread.ofPlatform().name("backfill-lister").start(lister);
        return new Running(populator, thread, () -> {
            lister.close();
            listerThread.interrupt();
            try {
                listerThread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            publisher.close();
            feed.close();
            source.close();
            dynamo.close();
        });
    }

    /** The change feed the configuration names (source.feed.type). */
    static ChangeFeed feedFor(BackbeatConfig config, S3Client source, DynamoDbClient dynamo, BucketRules rules, Clock clock) {
        BackbeatConfig.FeedSettings feed = config.source().feed();
        var checkpoints = new DynamoDbCheckpointStore(dynamo, config.dynamodb().tables().checkpoints(), clock);
        return switch (feed.type()) {
            case BackbeatConfig.FeedSettings.CLOUDSERVER_RECORD_LOG ->
                    new CloudServerRecordLogFeed(java.net.URI.create(feed.url()), feed.logName(), checkpoints, feed.batchSize());
            case BackbeatConfig.FeedSettings.S3_EVENTS_SQS -> new S3EventNotificationFeed(io.backbeatserverless.adapters.aws.SqsQueues.client(feed.url(), config.source().endpoint()), feed.url(), source,
                    rules, feed.batchSize());
            case BackbeatConfig.FeedSettings.BUCKETD_RAFT_LOG ->
                    new BucketdRaftLogFeed(java.net.URI.create(feed.url()), feed.raftSession(), checkpoints, feed.batchSize());
            default -> new ListingChangeFeed(source, new DynamoDbReplicationStatusStore(dynamo, config.dynamodb().tables().status(), clock),
                    rules, checkpoints, config.source().listingCheckpointName(), feed.batchSize(),
                    Duration.ofMillis(feed.intervalMs()), clock, new DynamoDbBackfillJobStore(dynamo, config.dynamodb().tables().status()));
        };
    }

    /** A running populator; closing it stops the loop and releases its clients. */
    public record Running(Populator populator, Thread thread, Runnable release) implements AutoCloseable {
        public void join() {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            populator.close();
            thread.interrupt();
            join();
            release.run();
        }
    }
}
