package io.backbeatserverless.adapters.metrics;

import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.ops.ReplicationMetrics;
import software.amazon.cloudwatchlogs.emf.config.EnvironmentConfigurationProvider;
import software.amazon.cloudwatchlogs.emf.environment.Environments;
import software.amazon.lambda.powertools.metrics.Metrics;
import software.amazon.lambda.powertools.metrics.MetricsBuilder;
import software.amazon.lambda.powertools.metrics.model.DimensionSet;
import software.amazon.lambda.powertools.metrics.model.MetricUnit;

import java.time.Duration;
import java.util.List;

/**
 * {@link ReplicationMetrics} as CloudWatch embedded metric format lines (Powertools for AWS Lambda's metrics), which
 * CloudWatch Logs turns into metrics of namespace {@value #NAMESPACE} with dimension {@code Site}: one line per site and
 * source bucket of a status batch ({@code SourceBucket} as a property, not a dimension: a dimension per bucket would be a
 * metric per bucket, each billed) and one per site for its backlog (the ops function's minute tick). {@code ReplicationLatency} is in seconds as S3's,
 * from the version's write at the source to its replica written (the replicator's outcome time). Outside Lambda (the
 * local stack) the lines go to standard output, never to a CloudWatch agent.
 */
public final class EmfReplicationMetrics implements ReplicationMetrics {

    public static final String NAMESPACE = "BackbeatServerless";
    public static final String SITE = "Site";

    private final Metrics metrics;

    private EmfReplicationMetrics(Metrics metrics) {
        this.metrics = metrics;
    }

    public static EmfReplicationMetrics create() {
        if (System.getenv("AWS_LAMBDA_FUNCTION_NAME") == null) {
            // Without it the library looks for EC2/ECS metadata, then a CloudWatch agent on 127.0.0.1:25888.
            EnvironmentConfigurationProvider.getConfig().setEnvironmentOverride(Environments.Local);
        }
        Metrics metrics = MetricsBuilder.builder().withNamespace(NAMESPACE).withRaiseOnEmptyMetrics(false).build();
        metrics.clearDefaultDimensions(); // Site alone: the alarms and the dashboard name exactly this dimension set
        return new EmfReplicationMetrics(metrics);
    }

    @Override
    public void outcomes(String site, String bucket, List<StatusEntry> counted) {
        if (counted.isEmpty()) {
            return;
        }
        metrics.flushMetrics(m -> {
            m.setDefaultDimensions(DimensionSet.of(SITE, site));
            m.addMetadata("SourceBucket", bucket);
            long completed = 0;
            long completedBytes = 0;
            long failed = 0;
            for (StatusEntry outcome : counted) {
                switch (outcome.status()) {
                    case COMPLETED -> {
                        completed++;
                        completedBytes += outcome.metadata().contentLength();
                        Duration latency = outcome.replicationTime();
                        if (latency != null) {
                            m.addMetric("ReplicationLatency", latency.toMillis() / 1000.0, MetricUnit.SECONDS);
                        }
                    }
                    case FAILED -> failed++;
                    default -> {
                        // SKIPPED and PENDING are not S3 replication metrics
                    }
                }
            }
            m.addMetric("OperationsReplicated", completed, MetricUnit.COUNT);
            m.addMetric("BytesReplicated", completedBytes, MetricUnit.BYTES);
            m.addMetric("OperationsFailedReplication", failed, MetricUnit.COUNT);
        });
    }

    @Override
    public void pageCompleted(String site, String bucket, long completed, long completedBytes) {
        if (completed == 0) {
            return;
        }
        metrics.flushMetrics(m -> {
            m.setDefaultDimensions(DimensionSet.of(SITE, site));
            m.addMetadata("SourceBucket", bucket);
            m.addMetric("OperationsReplicated", completed, MetricUnit.COUNT);
            m.addMetric("BytesReplicated", completedBytes, MetricUnit.BYTES);
        });
    }

    /** Ours, not S3's: {@code OperationsWaitingForRetry}, the failed versions whose automatic retry is planned (issue 31). */
    @Override
    public void waitingForRetry(String site, long operations) {
        metrics.flushMetrics(m -> {
            m.setDefaultDimensions(DimensionSet.of(SITE, site));
            m.addMetric("OperationsWaitingForRetry", operations, MetricUnit.COUNT);
        });
    }

    @Override
    public void pending(String site, Counters totals) {
        metrics.flushMetrics(m -> {
            m.setDefaultDimensions(DimensionSet.of(SITE, site));
            m.addMetric("OperationsPendingReplication", totals.backlog(), MetricUnit.COUNT);
            m.addMetric("BytesPendingReplication", totals.backlogBytes(), MetricUnit.BYTES);
        });
    }
}
