package io.backbeatserverless.ops;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbFailedEntryStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbSiteStateStore;
import io.backbeatserverless.adapters.kafka.EntryPublisher;

import java.time.Clock;

/** The ops side wired from a configuration: the service, the API on it, and the clients they hold. */
public final class OpsRuntime implements AutoCloseable {

    private final OpsService service;
    private final OpsApi api;
    private final AutoCloseable resources;

    private OpsRuntime(OpsService service, OpsApi api, AutoCloseable resources) {
        this.service = service;
        this.api = api;
        this.resources = resources;
    }

    public static OpsRuntime create(BackbeatConfig config, SiteControl control, Clock clock) {
        var dynamo = AwsClients.dynamoDb(config.dynamodb().endpoint());
        var tables = config.dynamodb().tables();
        EntryPublisher publisher = EntryPublisher.connect(config.kafka(), "backbeat-ops");
        KafkaHealth kafka = new KafkaHealth(config.kafka());
        OpsService service = new OpsService(config, new DynamoDbFailedEntryStore(dynamo, tables.failedEntries()),
                new DynamoDbSiteStateStore(dynamo, tables.siteState()), new DynamoDbMetricsStore(dynamo, tables.metrics()),
                new DynamoDbReplicationStatusStore(dynamo, tables.status(), clock), publisher, control,
                new io.backbeatserverless.adapters.dynamodb.DynamoDbCheckpointStore(dynamo, tables.checkpoints(), clock),
                new io.backbeatserverless.adapters.dynamodb.DynamoDbRuleStore(dynamo, tables.rules()),
                new io.backbeatserverless.adapters.dynamodb.DynamoDbVerifyRunStore(dynamo, tables.verify()), clock,
                io.backbeatserverless.adapters.metrics.EmfReplicationMetrics.create());
        String failures = config.ops().triggerFailuresBucket();
        // The trigger failures bucket is the stack's, in its region, read with the function's role.
        var s3 = failures == null ? null
                : io.backbeatserverless.adapters.aws.AwsClients.s3(new io.backbeatserverless.adapters.config.Endpoint(null,
                config.dynamodb().endpoint().region(), null, null), 4);
        TriggerFailureReplay replay = s3 == null ? null : new TriggerFailureReplay(s3, failures, publisher, config.kafka());
        var feed = config.source().feed();
        var sqs = feed != null && BackbeatConfig.FeedSettings.S3_EVENTS_SQS.equals(feed.type())
                ? io.backbeatserverless.adapters.aws.SqsQueues.client(feed.url(), config.source().endpoint()) : null;
        SourceEventsRedrive sourceEvents = sqs == null ? null : new SourceEventsRedrive(sqs, feed.url());
        return new OpsRuntime(service, new OpsApi(service, kafka, replay, sourceEvents,
                new BackfillJobs(new io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore(dynamo, tables.status()),
                        config.siteNames(), clock)), () -> {
            if (sqs != null) {
                sqs.close();
            }
            kafka.close();
            publisher.close();
            dynamo.close();
            if (s3 != null) {
                s3.close();
            }
        });
    }

    public OpsService service() {
        return service;
    }

    public OpsApi api() {
        return api;
    }

    @Override
    public void close() throws Exception {
        resources.close();
    }
}
