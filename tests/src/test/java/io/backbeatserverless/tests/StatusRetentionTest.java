package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.dynamodb.TableSchemas;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 35: the status table no longer grows for ever. A version's record carries an expiry (the table's TTL attribute)
 * once every site its rule names has COMPLETED it, and none while any site is PENDING, FAILED or SKIPPED: a failure or an
 * operator's retry reopens a record and takes its expiry away. On the stack's dynalite, with the store's own writes.
 */
class StatusRetentionTest extends StackScenario {

    private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");
    private static final Duration RETENTION = Duration.ofDays(30);
    private static DynamoDbReplicationStatusStore store;
    private static String table;

    @BeforeAll
    static void aTableOfItsOwn() {
        table = "retention-" + UUID.randomUUID().toString().substring(0, 8);
        var defaults = stack.config.dynamodb().tables();
        TableSchemas.createMissing(stack.dynamo, new io.backbeatserverless.adapters.config.BackbeatConfig.TableNames(table,
                defaults.failedEntries(), defaults.siteState(), defaults.checkpoints(), defaults.metrics(), defaults.rules(),
                defaults.verify()), Duration.ofSeconds(30));
        store = new DynamoDbReplicationStatusStore(stack.dynamo, table, Clock.fixed(NOW, ZoneOffset.UTC), RETENTION);
    }

    @Test
    void aVersionOfOneSiteExpiresWhenItCompletes() {
        String key = "one-site-" + UUID.randomUUID();
        record(key, "a", ReplicationStatus.FAILED, List.of("a"));
        assertThat(expiry(key)).as("a failure is kept").isNull();
        record(key, "a", ReplicationStatus.COMPLETED, List.of("a"));
        assertThat(expiry(key)).isEqualTo(NOW.plus(RETENTION).getEpochSecond());
    }

    @Test
    void aVersionOfTwoSitesExpiresOnlyOnceBothCompletedAndAReopenedOneIsKept() {
        String key = "two-sites-" + UUID.randomUUID();
        List<String> sites = List.of("a", "b");
        record(key, "a", ReplicationStatus.COMPLETED, sites);
        assertThat(expiry(key)).as("site b has not completed it").isNull();
        record(key, "b", ReplicationStatus.FAILED, sites);
        assertThat(expiry(key)).isNull();
        record(key, "b", ReplicationStatus.COMPLETED, sites);
        assertThat(expiry(key)).as("both done").isEqualTo(NOW.plus(RETENTION).getEpochSecond());

        // An operator's retry (a re-queue makes the site PENDING, whatever it was) reopens it.
        record(key, "a", ReplicationStatus.PENDING, sites);
        assertThat(expiry(key)).isNull();
        record(key, "a", ReplicationStatus.COMPLETED, sites);
        assertThat(expiry(key)).isEqualTo(NOW.plus(RETENTION).getEpochSecond());
    }

    @Test
    void aSkippedVersionIsKeptForVerifyToExplainItsAbsence() {
        String key = "skipped-" + UUID.randomUUID();
        record(key, "a", ReplicationStatus.SKIPPED, List.of("a"));
        assertThat(expiry(key)).isNull();
    }

    @Test
    void withoutRetentionNothingExpires() {
        String key = "kept-" + UUID.randomUUID();
        new DynamoDbReplicationStatusStore(stack.dynamo, table, Clock.fixed(NOW, ZoneOffset.UTC))
                .recordOutcome(outcome(key, "a", ReplicationStatus.COMPLETED, List.of("a")), null);
        assertThat(expiry(key)).isNull();
    }

    /**
     * A backfill page (its item and its versions' item) expires once every site it goes to answered it whole, as a version's
     * record does once COMPLETED everywhere; a part put back keeps it. Before: page items were kept for ever (two items per
     * thousand versions backfilled, the versions' one up to a few hundred KB).
     */
    @Test
    void aBackfillPageExpiresOnceEverySiteAnsweredItWhole() {
        String bucket = "pages-" + UUID.randomUUID().toString().substring(0, 8);
        var jobs = new io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore(stack.dynamo, table, RETENTION, Clock.fixed(NOW, ZoneOffset.UTC));
        String rules = """
                {"Role":"r","Rules":[{"ID":"ab","Status":"Enabled","Prefix":"","Destination":{"Bucket":"arn:aws:s3:::d","StorageClass":"a,b"}}]}""";
        var versions = List.of(new io.backbeatserverless.core.backfill.BackfillPage.PageVersion("k1", "v1", 3, "e", NOW.toString(), false, 0, Map.of()),
                new io.backbeatserverless.core.backfill.BackfillPage.PageVersion("k2", "v1", 3, "e", NOW.toString(), false, 0, Map.of()));
        var page = new io.backbeatserverless.core.backfill.BackfillPage("job-" + bucket, 1, 0, bucket, null, null, "k2", List.of("a", "b"), rules,
                versions, NOW.toString());
        jobs.savePage(page);

        jobs.recordOutcome(pageOutcome(page, "a", 0, List.of()));
        assertThat(pageExpiries(bucket)).as("site b has not answered").containsOnlyNulls().hasSize(2);
        jobs.recordOutcome(pageOutcome(page, "b", 0, List.of(versions.get(1).ref())));
        assertThat(pageExpiries(bucket)).as("site b put a part back").containsOnlyNulls();
        jobs.recordOutcome(pageOutcome(page, "b", 1, List.of()));
        assertThat(pageExpiries(bucket)).as("answered whole everywhere").containsOnly(NOW.plus(RETENTION).getEpochSecond()).hasSize(2);
    }

    private static io.backbeatserverless.core.backfill.PageOutcome pageOutcome(io.backbeatserverless.core.backfill.BackfillPage page, String site,
                                                                              int part, List<String> remaining) {
        return new io.backbeatserverless.core.backfill.PageOutcome(page.jobId(), page.number(), part, page.bucket(), page.throughKey(), site,
                2 - remaining.size(), 6, 0, 0, List.of(), remaining, NOW.toString());
    }

    /** The expiry of the page's item and of its versions' item, as stored (epoch seconds, or null). */
    private static List<Long> pageExpiries(String bucket) {
        return java.util.stream.Stream.of("#pages/" + bucket, "#pageversions/" + bucket)
                .flatMap(partition -> stack.dynamo.query(r -> r.tableName(table).consistentRead(true).keyConditionExpression("#pk = :pk")
                        .expressionAttributeNames(Map.of("#pk", TableSchemas.STATUS_PK))
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(partition)))).items().stream())
                .map(item -> item.get(TableSchemas.TTL_ATTRIBUTE) == null ? null : Long.parseLong(item.get(TableSchemas.TTL_ATTRIBUTE).n()))
                .toList();
    }

    private static void record(String key, String site, ReplicationStatus status, List<String> sites) {
        store.recordOutcome(outcome(key, site, status, sites), null);
    }

    private static StatusEntry outcome(String key, String site, ReplicationStatus status, List<String> sites) {
        ObjectMetadata metadata = ObjectMetadata.builder(key, "v1").contentLength(3).lastModified(NOW.toString())
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                        sites.stream().map(s -> new ObjectMetadata.Backend(s, ReplicationStatus.PENDING, "")).toList(),
                        List.of("DATA", "METADATA"), "dest", String.join(",", sites), "role"))
                .build();
        return new StatusEntry("bucket", new VersionKey(key, "v1"), site, status, status == ReplicationStatus.FAILED ? "refused" : null,
                metadata, 1, 3, 1, NOW.toString());
    }

    /** The record's expiry (epoch seconds), or null. */
    private static Long expiry(String key) {
        Map<String, AttributeValue> item = stack.dynamo.getItem(r -> r.tableName(table).consistentRead(true).key(Map.of(
                TableSchemas.STATUS_PK, AttributeValue.fromS("bucket/" + key), TableSchemas.STATUS_SK, AttributeValue.fromS("v1")))).item();
        AttributeValue expiresAt = item.get(TableSchemas.TTL_ATTRIBUTE);
        return expiresAt == null ? null : Long.parseLong(expiresAt.n());
    }
}
