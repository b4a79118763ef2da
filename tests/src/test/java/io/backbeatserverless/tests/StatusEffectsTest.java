package io.backbeatserverless.tests;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbFailedEntryStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.dynamodb.TableSchemas;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.ops.FailedEntry;
import io.backbeatserverless.core.ops.Requeue;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SourceStatusWriter;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.status.StatusRecorder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a status change causes (the failed entry, the write-back to the source) happens whatever fails when,
 * on the real status, failed-entry and metrics tables (dynalite), each test with tables of its own.
 */
class StatusEffectsTest extends StackScenario {

    private static final String SITE = "effects-site";

    private DynamoDbReplicationStatusStore statuses;
    private DynamoDbFailedEntryStore failedEntries;
    private DynamoDbMetricsStore metrics;

    @BeforeEach
    void ownTables() {
        String own = "effects-" + UUID.randomUUID().toString().substring(0, 8);
        BackbeatConfig.TableNames tables = new BackbeatConfig.TableNames(own + "-status", own + "-failed", own + "-state",
                own + "-checkpoints", own + "-metrics", own + "-rules");
        TableSchemas.createMissing(stack.dynamo, tables, Duration.ofSeconds(30));
        statuses = new DynamoDbReplicationStatusStore(stack.dynamo, tables.status(), Clock.systemUTC());
        failedEntries = new DynamoDbFailedEntryStore(stack.dynamo, tables.failedEntries());
        metrics = new DynamoDbMetricsStore(stack.dynamo, tables.metrics());
    }

    /**
     * The write-back fails once after the FAILED status is written; the event source retries the batch. Before,
     * the retry saw FAILED→FAILED, "nothing changed", and skipped both effects: no failed entry, the source left PENDING.
     */
    @Test
    void effectsCutShortByAFailureHappenWhenTheBatchIsRetried() {
        List<ReplicationStatus> writtenBack = new ArrayList<>();
        AtomicInteger failuresLeft = new AtomicInteger(1);
        SourceStatusWriter flakySource = (outcome, status) -> {
            if (failuresLeft.getAndDecrement() > 0) {
                throw new java.io.IOException("connection reset by the source");
            }
            writtenBack.add(status);
        };
        StatusRecorder recorder = new StatusRecorder(statuses, failedEntries, metrics, flakySource, Duration.ofHours(24),
                Clock.systemUTC(), () -> {
        });
        KafkaEvent batch = batchOf(outcome("obj", "v1", ReplicationStatus.FAILED, "SlowDown (HTTP 503): slow down"));

        assertThatThrownBy(() -> recorder.record(batch)).hasMessageContaining("connection reset");
        recorder.record(batch); // the event source's retry of the same batch

        assertThat(statuses.find(new VersionRef("b", "obj", "v1")).orElseThrow().sites().get(SITE).status()).isEqualTo(ReplicationStatus.FAILED);
        assertThat(writtenBack).containsExactly(ReplicationStatus.FAILED);
        assertThat(failedEntries.list(SITE, null, 10, Instant.now()).entries()).singleElement()
                .satisfies(e -> assertThat(e.reason()).isEqualTo("SlowDown (HTTP 503): slow down"));
        assertThat(metrics.totals(SITE).failed()).as("counted once").isEqualTo(1);

        recorder.record(batch); // a replay changes nothing more
        assertThat(failedEntries.list(SITE, null, 10, Instant.now()).entries()).hasSize(1);
        assertThat(metrics.totals(SITE).failed()).isEqualTo(1);
    }

    /**
     * A retry whose copy fails again at once: its new failure is recorded before the retry has finished. Before,
     * the retry published first, then wrote PENDING over that FAILED and removed the version's failed entries:
     * PENDING forever, listed nowhere.
     */
    @Test
    void aRetryThatFailsAgainAtOnceStaysFailedAndListed() {
        StatusRecorder recorder = new StatusRecorder(statuses, failedEntries, metrics, SourceStatusWriter.NONE, Duration.ofHours(24),
                Clock.systemUTC(), () -> {
        });
        recorder.record(batchOf(outcome("obj", "v2", ReplicationStatus.FAILED, "first failure")));
        FailedEntry failed = failedEntries.list(SITE, null, 10, Instant.now()).entries().getFirst();

        // A replicator and status processor faster than the retry itself: the outcome is recorded during the publish.
        Requeue.ReplicationQueue failsAgainAtOnce = entries -> recorder.record(batchOf(
                outcome("obj", "v2", ReplicationStatus.FAILED, "second failure")));
        new Requeue(failsAgainAtOnce, statuses, failedEntries, metrics, Clock.systemUTC())
                .requeue(List.of(new Requeue.Item(EntryCodec.decodeReplicationEntry(failed.entry().getBytes(StandardCharsets.UTF_8)),
                        SITE, failed)));

        assertThat(statuses.find(new VersionRef("b", "obj", "v2")).orElseThrow().sites().get(SITE).status()).isEqualTo(ReplicationStatus.FAILED);
        assertThat(failedEntries.list(SITE, null, 10, Instant.now()).entries()).singleElement()
                .satisfies(e -> assertThat(e.reason()).isEqualTo("second failure"));
    }

    /** A skipped version can be retried by an operator, and its new outcome counts (SKIPPED used to be final for good). */
    @Test
    void aSkippedVersionCanBeRetriedAndItsNewOutcomeRecorded() {
        StatusRecorder recorder = new StatusRecorder(statuses, failedEntries, metrics, SourceStatusWriter.NONE, Duration.ofHours(24),
                Clock.systemUTC(), () -> {
        });
        recorder.record(batchOf(outcome("obj", "v3", ReplicationStatus.SKIPPED, "source version unavailable")));
        StatusEntry skipped = outcome("obj", "v3", ReplicationStatus.SKIPPED, null);
        new Requeue(entries -> { }, statuses, failedEntries, metrics, Clock.systemUTC()).requeue(List.of(new Requeue.Item(
                new ReplicationEntry(ReplicationEntry.TYPE_PUT, "b", skipped.versionKey(), skipped.metadata(), null), SITE, null)));
        assertThat(statuses.find(new VersionRef("b", "obj", "v3")).orElseThrow().sites().get(SITE).status()).isEqualTo(ReplicationStatus.PENDING);

        recorder.record(batchOf(outcome("obj", "v3", ReplicationStatus.COMPLETED, null)));

        assertThat(statuses.find(new VersionRef("b", "obj", "v3")).orElseThrow().sites().get(SITE).status()).isEqualTo(ReplicationStatus.COMPLETED);
    }

    /**
     * A version first recorded by its outcome (the record-log and event feeds do not record versions as queued)
     * keeps its last-modified time: {@code ./localstack/status} showed "last modified null" for a CloudServer source.
     */
    @Test
    void aVersionRecordedByItsOutcomeKeepsItsLastModifiedTime() {
        StatusRecorder recorder = new StatusRecorder(statuses, failedEntries, metrics, SourceStatusWriter.NONE, Duration.ofHours(24),
                Clock.systemUTC(), () -> {
        });
        recorder.record(batchOf(outcome("obj", "v4", ReplicationStatus.COMPLETED, null)));

        assertThat(statuses.find(new VersionRef("b", "obj", "v4")).orElseThrow().lastModified()).isEqualTo("2026-11-28T10:00:00Z");
    }

    /**
     * Issue 28 #4: a tag change of a version already COMPLETED at the site that fails there is FAILED: listed, written back
     * to the source, retryable (COMPLETED used to be final against it: no failed entry, the source kept PENDING, the site
     * the old tags). Its retry's COMPLETED then stands, and a replay of the old failure changes nothing (it is older).
     */
    @Test
    void aFailedTagChangeOfACompletedVersionIsFailedListedAndWrittenBackUntilItsRetryCompletes() {
        List<ReplicationStatus> writtenBack = new ArrayList<>();
        StatusRecorder recorder = new StatusRecorder(statuses, failedEntries, metrics, (outcome, status) -> writtenBack.add(status),
                Duration.ofHours(24), Clock.systemUTC(), () -> {
        });
        Instant copied = Instant.now().minusSeconds(60);
        recorder.record(batchOf(outcome("obj", "v5", ReplicationStatus.COMPLETED, null, copied, false)));
        KafkaEvent tagChangeFailed = batchOf(outcome("obj", "v5", ReplicationStatus.FAILED, "AccessDenied re-tagging the replica",
                copied.plusSeconds(10), true));

        recorder.record(tagChangeFailed);

        VersionRef version = new VersionRef("b", "obj", "v5");
        assertThat(statuses.find(version).orElseThrow().sites().get(SITE).status()).isEqualTo(ReplicationStatus.FAILED);
        assertThat(failedEntries.list(SITE, null, 10, Instant.now()).entries()).singleElement().satisfies(e -> {
            assertThat(e.reason()).isEqualTo("AccessDenied re-tagging the replica");
            assertThat(EntryCodec.decodeReplicationEntry(e.entry().getBytes(StandardCharsets.UTF_8)).metadata().replicationInfo()
                    .orElseThrow().isMetadataOnly()).as("its retry re-tags, copies nothing").isTrue();
        });
        assertThat(writtenBack).containsExactly(ReplicationStatus.COMPLETED, ReplicationStatus.FAILED);

        recorder.record(batchOf(outcome("obj", "v5", ReplicationStatus.COMPLETED, null, copied.plusSeconds(20), true)));
        recorder.record(tagChangeFailed); // the old failure, replayed

        assertThat(statuses.find(version).orElseThrow().sites().get(SITE).status()).isEqualTo(ReplicationStatus.COMPLETED);
        assertThat(failedEntries.list(SITE, null, 10, Instant.now()).entries()).isEmpty();
        assertThat(writtenBack).containsExactly(ReplicationStatus.COMPLETED, ReplicationStatus.FAILED, ReplicationStatus.COMPLETED);
        // A copy of the bytes that fails after they were copied stays refused: only a change of metadata reopens a version.
        recorder.record(batchOf(outcome("obj", "v5", ReplicationStatus.FAILED, "a late copy failure", copied.plusSeconds(30), false)));
        assertThat(statuses.find(version).orElseThrow().sites().get(SITE).status()).isEqualTo(ReplicationStatus.COMPLETED);
    }

    /**
     * Issue 28 #7: the minute's counters and the totals are two writes; a batch cut short between them came again and
     * counted its minute twice (the totals knew it was counted, the minute did not). Now the minute knows too.
     */
    @Test
    void aBatchCutShortBetweenItsMinuteAndItsTotalsCountsItsMinuteOnce() throws Exception {
        String own = "effects-" + UUID.randomUUID().toString().substring(0, 8);
        BackbeatConfig.TableNames tables = new BackbeatConfig.TableNames(own + "-status", own + "-failed", own + "-state",
                own + "-checkpoints", own + "-metrics", own + "-rules");
        TableSchemas.createMissing(stack.dynamo, tables, Duration.ofSeconds(30));
        AtomicInteger crashesLeft = new AtomicInteger(1);
        var endpoint = stack.config.dynamodb().endpoint();
        try (var crashingBeforeTotals = software.amazon.awssdk.services.dynamodb.DynamoDbClient.builder()
                .endpointOverride(java.net.URI.create(endpoint.url())).region(software.amazon.awssdk.regions.Region.of(endpoint.region()))
                .credentialsProvider(io.backbeatserverless.adapters.aws.AwsClients.credentials(endpoint))
                .overrideConfiguration(o -> o.addExecutionInterceptor(new software.amazon.awssdk.core.interceptor.ExecutionInterceptor() {
                    @Override
                    public void beforeExecution(software.amazon.awssdk.core.interceptor.Context.BeforeExecution context,
                                                software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
                        if (context.request() instanceof software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest update
                                && update.key().get(TableSchemas.METRICS_SK).s().equals("total") && crashesLeft.getAndDecrement() > 0) {
                            throw new IllegalStateException("the function stops between the minute and the totals");
                        }
                    }
                })).build()) {
            DynamoDbMetricsStore crashing = new DynamoDbMetricsStore(crashingBeforeTotals, tables.metrics());
            StatusRecorder recorder = new StatusRecorder(new DynamoDbReplicationStatusStore(stack.dynamo, tables.status(), Clock.systemUTC()),
                    new DynamoDbFailedEntryStore(stack.dynamo, tables.failedEntries()), crashing, SourceStatusWriter.NONE,
                    Duration.ofHours(24), Clock.systemUTC(), () -> {
            });
            Instant at = Instant.now();
            KafkaEvent batch = batchOf(outcome("obj", "v6", ReplicationStatus.COMPLETED, null, at, false));

            assertThatThrownBy(() -> recorder.record(batch)).hasMessageContaining("between the minute and the totals");
            recorder.record(batch); // the event source delivers it again

            assertThat(crashing.totals(SITE).completed()).isEqualTo(1);
            assertThat(crashing.sum(SITE, at.minusSeconds(120), at.plusSeconds(120)).completed()).as("the minute counted once").isEqualTo(1);
        }
    }

    private static StatusEntry outcome(String key, String versionId, ReplicationStatus status, String reason) {
        return outcome(key, versionId, status, reason, Instant.now(), false);
    }

    private static StatusEntry outcome(String key, String versionId, ReplicationStatus status, String reason, Instant at,
                                       boolean metadataOnly) {
        ObjectMetadata metadata = ObjectMetadata.builder(key, versionId).contentLength(5).lastModified("2026-11-28T10:00:00Z")
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                        List.of(new ObjectMetadata.Backend(SITE, ReplicationStatus.PENDING, "")),
                        metadataOnly ? List.of("METADATA") : List.of("DATA", "METADATA"), "arn:aws:s3:::b", SITE, "role"))
                .build().withSiteStatus(SITE, status == ReplicationStatus.SKIPPED ? ReplicationStatus.PENDING : status);
        return new StatusEntry("b", new VersionKey(key, versionId), SITE, status, reason, metadata, 1, 0, 3, at.toString());
    }

    private static KafkaEvent batchOf(StatusEntry outcome) {
        KafkaEvent event = new KafkaEvent();
        event.setRecords(Map.of("backbeat-replication-status-0", List.of(KafkaEvent.KafkaEventRecord.builder()
                .withTopic("backbeat-replication-status").withPartition(0).withOffset(0)
                .withKey(Base64.getEncoder().encodeToString(outcome.messageKey().getBytes(StandardCharsets.UTF_8)))
                .withValue(Base64.getEncoder().encodeToString(EntryCodec.encode(outcome))).build())));
        return event;
    }
}
