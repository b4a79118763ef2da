package io.backbeatserverless.infra;

import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.cloudwatch.Alarm;
import software.amazon.awscdk.services.cloudwatch.ComparisonOperator;
import software.amazon.awscdk.services.cloudwatch.Dashboard;
import software.amazon.awscdk.services.cloudwatch.GraphWidget;
import software.amazon.awscdk.services.cloudwatch.IMetric;
import software.amazon.awscdk.services.cloudwatch.Metric;
import software.amazon.awscdk.services.cloudwatch.MetricOptions;
import software.amazon.awscdk.services.cloudwatch.TextWidget;
import software.amazon.awscdk.services.cloudwatch.TreatMissingData;
import software.amazon.awscdk.services.cloudwatch.actions.SnsAction;
import software.amazon.awscdk.services.ecs.FargateService;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.kms.Key;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.sns.Topic;
import software.amazon.awscdk.services.events.EventPattern;
import software.amazon.awscdk.services.events.Rule;
import software.amazon.awscdk.services.sns.subscriptions.EmailSubscription;
import software.amazon.awscdk.services.sqs.Queue;
import software.constructs.Construct;

import java.util.List;
import java.util.Map;

/**
 * What an operator watches: per site, the backlog (the MSK trigger's offset lag), failures and the
 * replication latency; the MSK triggers' failed batches; the populator's running task. Every alarm
 * notifies one encrypted SNS topic (an e-mail subscription when the deployment names an address).
 */
final class ReplicationMonitoring extends Construct {

    private static final Duration PERIOD = Duration.minutes(5);

    private final SnsAction notify;

    /** @param sourceChanges the S3-events feed's queue (its dead-letter queue is watched), or null on another feed */
    ReplicationMonitoring(Construct scope, String id, DeploymentConfig deployment, Map<String, Function> replicators,
                          Function statusProcessor, Function ops, TriggerFailures triggerFailures, FargateService populator,
                          Queue sourceChanges) {
        super(scope, id);
        Key topicKey = Key.Builder.create(this, "AlarmTopicKey").enableKeyRotation(true)
                .description("Encrypts the Backbeat alarm notifications").build();
        // CloudWatch publishes to the encrypted topic.
        topicKey.grant(new ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");
        Topic topic = Topic.Builder.create(this, "Alarms").masterKey(topicKey).enforceSsl(true).build();
        // CloudWatch alarms may publish only where the topic's access policy allows it, and an explicit policy must say so
        // (CloudWatch User Guide, "Using Amazon SNS to notify": a permissions error otherwise), for this account's alarms.
        topic.addToResourcePolicy(software.amazon.awscdk.services.iam.PolicyStatement.Builder.create()
                .sid("CloudWatchAlarms")
                .principals(List.of(new ServicePrincipal("cloudwatch.amazonaws.com")))
                .actions(List.of("sns:Publish"))
                .resources(List.of(topic.getTopicArn()))
                .conditions(Map.of("StringEquals", Map.of("aws:SourceAccount", software.amazon.awscdk.Aws.ACCOUNT_ID)))
                .build());
        if (deployment.alarmEmail() != null) {
            topic.addSubscription(new EmailSubscription(deployment.alarmEmail()));
        }
        notify = new SnsAction(topic);
        notifyReplicationEvents(topic, topicKey);
        DeploymentConfig.Alarms thresholds = deployment.alarms();

        Dashboard dashboard = Dashboard.Builder.create(this, "Dashboard").build();
        dashboard.addWidgets(TextWidget.Builder.create().width(24).height(2)
                .markdown("# Backbeat Serverless\nPer site, S3 Replication's metrics (namespace BackbeatServerless, from the status "
                        + "function's EMF lines): ReplicationLatency (source write to replica written), OperationsPendingReplication, "
                        + "BytesPendingReplication, OperationsFailedReplication; and each replicator's MSK offset lag.").build());

        for (Map.Entry<String, Function> entry : replicators.entrySet()) {
            String site = entry.getKey();
            Function replicator = entry.getValue();
            Metric backlog = lambdaMetric(replicator, "OffsetLag", "Maximum");
            Metric errors = replicator.metricErrors(MetricOptions.builder().period(PERIOD).statistic("Sum").build());
            Metric latency = replicationMetric("ReplicationLatency", site, "p99");
            Metric failedOperations = replicationMetric("OperationsFailedReplication", site, "Sum");
            Metric pendingOperations = replicationMetric("OperationsPendingReplication", site, "Maximum");
            Metric pendingBytes = replicationMetric("BytesPendingReplication", site, "Maximum");
            Metric replicated = replicationMetric("OperationsReplicated", site, "Sum");
            // Backlog growing: above the threshold for three periods in a row, not a momentary burst.
            alarm("Backlog-" + site, backlog, thresholds.backlogRecords(), 3,
                    "Site " + site + ": more than " + thresholds.backlogRecords() + " entries waiting for 15 minutes");
            alarm("Errors-" + site, errors, thresholds.errorsPerFiveMinutes(), 1,
                    "Site " + site + ": replicator invocations failed (the batch is retried)");
            alarm("Latency-" + site, latency, thresholds.replicationLatencyP99Seconds(), 1,
                    "Site " + site + ": p99 ReplicationLatency (source write to replica written) above "
                            + thresholds.replicationLatencyP99Seconds() + " s");
            alarm("FailedReplication-" + site, failedOperations, 1, 1,
                    "Site " + site + ": versions FAILED (listed with their reason: ops failed list --site " + site + ")");
            dashboard.addWidgets(
                    graph("Site " + site + ": p99 ReplicationLatency (s)", latency),
                    graph("Site " + site + ": pending operations and bytes", pendingOperations, pendingBytes),
                    graph("Site " + site + ": replicated and failed operations", replicated, failedOperations),
                    graph("Site " + site + ": backlog (offset lag)", backlog),
                    graph("Site " + site + ": errors", errors));
        }

        Metric statusErrors = statusProcessor.metricErrors(MetricOptions.builder().period(PERIOD).statistic("Sum").build());
        Metric statusBacklog = lambdaMetric(statusProcessor, "OffsetLag", "Maximum");
        alarm("StatusErrors", statusErrors, thresholds.errorsPerFiveMinutes(), 1, "Status processor invocations failed");
        alarm("StatusBacklog", statusBacklog, thresholds.backlogRecords(), 3, "Status entries are not being recorded");
        notifyTriggerFailures(topic, triggerFailures);
        Metric sourceDeadLetters = null;
        if (sourceChanges != null && sourceChanges.getDeadLetterQueue() != null) {
            sourceDeadLetters = sourceChanges.getDeadLetterQueue().getQueue().metricApproximateNumberOfMessagesVisible(
                    MetricOptions.builder().period(PERIOD).statistic("Maximum").build());
            alarm("SourceChangesDeadLetters", sourceDeadLetters, 1, 1,
                    "S3 event notifications the populator could not use are in the source changes' dead-letter queue: their "
                            + "versions are not queued until they are redriven (docs/operations.md)");
        }
        Metric opsErrors = ops.metricErrors(MetricOptions.builder().period(PERIOD).statistic("Sum").build());

        Metric runningPopulators = Metric.Builder.create()
                .namespace("ECS/ContainerInsights").metricName("RunningTaskCount")
                .dimensionsMap(Map.of("ClusterName", populator.getCluster().getClusterName(),
                        "ServiceName", populator.getServiceName()))
                .statistic("Minimum").period(Duration.minutes(1)).build();
        Alarm populatorDown = Alarm.Builder.create(this, "PopulatorNotRunning")
                .metric(runningPopulators).threshold(1).evaluationPeriods(3)
                .comparisonOperator(ComparisonOperator.LESS_THAN_THRESHOLD)
                .treatMissingData(TreatMissingData.BREACHING) // no data: no task reports, so none runs
                .alarmDescription("The populator has had no running (healthy) task for 3 minutes: nothing new is queued")
                .build();
        populatorDown.addAlarmAction(notify);
        // The populator's own progress (its embedded-metric log lines): running but not moving is a stall too.
        Metric sinceLastBatch = Metric.Builder.create()
                .namespace("BackbeatServerless").metricName("PopulatorSecondsSinceLastBatch")
                .dimensionsMap(Map.of("Feed", deployment.source().s3Events() ? "s3-events-sqs" : "listing"))
                .statistic("Maximum").period(PERIOD).build();
        Alarm populatorStalled = Alarm.Builder.create(this, "PopulatorStalled")
                .metric(sinceLastBatch).threshold(thresholds.populatorStallSeconds()).evaluationPeriods(1)
                .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                .treatMissingData(TreatMissingData.BREACHING) // no line for 5 minutes: the populator reports nothing
                .alarmDescription("The populator has got no batch through for " + thresholds.populatorStallSeconds()
                        + " s (or reports nothing): nothing new is queued")
                .build();
        populatorStalled.addAlarmAction(notify);

        if (sourceDeadLetters != null) {
            dashboard.addWidgets(graph("Source changes: dead letters", sourceDeadLetters));
        }
        dashboard.addWidgets(
                graph("Status processor: backlog and errors", statusBacklog, statusErrors),
                graph("Populator running tasks", runningPopulators),
                graph("Populator: seconds since a batch went through", sinceLastBatch),
                graph("Ops API errors", opsErrors));
    }

    /** One of S3 Replication's metrics of a site, as the status function emits them (EmfReplicationMetrics). */
    private static Metric replicationMetric(String name, String site, String statistic) {
        return Metric.Builder.create().namespace("BackbeatServerless").metricName(name).dimensionsMap(Map.of("Site", site))
                .statistic(statistic).period(PERIOD).build();
    }

    private static Metric lambdaMetric(Function function, String name, String statistic) {
        return function.metric(name, MetricOptions.builder().period(PERIOD).statistic(statistic).build());
    }

    private void alarm(String id, Metric metric, double threshold, int evaluationPeriods, String description) {
        Alarm alarm = Alarm.Builder.create(this, id)
                .metric(metric).threshold(threshold).evaluationPeriods(evaluationPeriods)
                .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                .treatMissingData(TreatMissingData.NOT_BREACHING)
                .alarmDescription(description)
                .build();
        alarm.addAlarmAction(notify);
    }

    private static GraphWidget graph(String title, IMetric... metrics) {
        return GraphWidget.Builder.create().title(title).width(8).left(List.of(metrics)).build();
    }

    /**
     * A batch an MSK trigger gave up on lands in the trigger failures bucket (with its records): each object is an alarm,
     * through the bucket's EventBridge notifications.
     */
    private void notifyTriggerFailures(Topic topic, TriggerFailures triggerFailures) {
        Rule.Builder.create(this, "TriggerFailureObjects")
                .description("An MSK trigger gave up on a batch: its records are in the trigger failures bucket (replay them)")
                .eventPattern(EventPattern.builder().source(List.of("aws.s3")).detailType(List.of("Object Created"))
                        .detail(Map.of("bucket", Map.of("name", List.of(triggerFailures.bucket().getBucketName())))).build())
                .targets(List.of(new software.amazon.awscdk.services.events.targets.SnsTopic(topic)))
                .build();
    }

    /**
     * The replication events the status function puts on the default bus, a failure and a missed threshold, go to the
     * alarm topic (as S3's replication events go where a rule sends them); an operator adds rules of their own for
     * tickets or chat. EventBridge publishes to the encrypted topic with the key's grant.
     */
    private void notifyReplicationEvents(Topic topic, Key topicKey) {
        topicKey.grant(new ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");
        Rule.Builder.create(this, "ReplicationEvents")
                .description("Backbeat Serverless replication failures and missed thresholds to the alarm topic")
                .eventPattern(EventPattern.builder().source(List.of("backbeat-serverless"))
                        .detailType(List.of("OperationFailedReplication", "OperationMissedThreshold")).build())
                .targets(List.of(new software.amazon.awscdk.services.events.targets.SnsTopic(topic)))
                .build();
    }
}
