package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.aws.BucketRules;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbCheckpointStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbRuleStore;
import io.backbeatserverless.adapters.dynamodb.TableSchemas;
import io.backbeatserverless.populator.ChangeFeed;
import io.backbeatserverless.populator.ListingChangeFeed;
import io.backbeatserverless.populator.SourceVersion;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The listing feed pages through a bucket whose keys mix versions, delete markers in between, and keys that
 * hold nothing but delete markers, 100 entries a page: every version and delete marker is queued once, each
 * key's oldest first, a key with more versions than a page too. (Before pages were read whole keys at a time,
 * such a key was queued a page at a time, newest page first; and a page's delete-marker-only keys were
 * counted after its version keys, so the wrong key was held back for the next page and, on a server whose
 * key marker is exclusive as S3's is, the marker moved past a key never finished. local-s3 re-lists the
 * marker's key, which hid that one.)
 */
class ListingFeedPagingTest extends StackScenario {

    private static final int KEYS = 1_250;
    private static final int LONG_HISTORY = 250;

    @Test
    void everyVersionAndDeleteMarkerIsQueuedOnceInOrderAcrossPages() throws Exception {
        String bucket = stack.newVersionedBucket("paging");
        stack.putInterleaved(bucket, KEYS);
        // One key with more versions than a page holds: its pages must still be queued oldest first.
        for (int n = 0; n < LONG_HISTORY; n++) {
            int version = n;
            stack.source.putObject(r -> r.bucket(bucket).key("k00100-long"), RequestBody.fromString("v" + version));
        }
        Map<String, List<String>> listed = listedOldestFirst(bucket);
        assertThat(listed.values().stream().mapToInt(List::size).sum()).isEqualTo(KEYS * 4 + LONG_HISTORY);

        ListingChangeFeed feed = feedOver(bucket, 100);
        Map<String, List<String>> queued = new LinkedHashMap<>();
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        do {
            ChangeFeed.Batch batch = feed.next();
            for (SourceVersion v : batch.versions()) {
                if (v.bucket().equals(bucket)) {
                    queued.computeIfAbsent(v.metadata().objectKey(), k -> new ArrayList<>()).add(v.metadata().versionId());
                }
            }
            feed.acknowledge(batch);
        } while (!feed.cursor().done() && Instant.now().isBefore(deadline));

        assertThat(feed.cursor().done()).as("the pass ended").isTrue();
        assertThat(queued).as("every key, each version once, oldest first").isEqualTo(listed);
    }

    /**
     * Versions a rule did not select are looked at again once the bucket's rules change. Before, the feed kept
     * every version it had not selected in memory for good (and every version it had recorded, without bound).
     */
    @Test
    void versionsNotSelectedAreQueuedOnceTheRulesSelectThem() throws Exception {
        String bucket = stack.newVersionedBucket("rulechange");
        String a = stack.source.putObject(r -> r.bucket(bucket).key("a/1"), RequestBody.fromString("a")).versionId();
        String b = stack.source.putObject(r -> r.bucket(bucket).key("b/1"), RequestBody.fromString("b")).versionId();
        Feed feed = feedOver(bucket, 100, Duration.ZERO);
        feed.rules().put(bucket, rule(bucket, "a/"));
        assertThat(pass(feed.feed(), bucket)).containsExactly("a/1 " + a);

        feed.rules().put(bucket, rule(bucket, ""));

        assertThat(pass(feed.feed(), bucket)).as("b/1 is selected now; a/1 is already queued").containsExactly("b/1 " + b);
    }

    private static String rule(String bucket, String prefix) {
        return """
                {"Role":"arn:aws:iam::root:role/r","Rules":[{"Status":"Enabled","Prefix":"%s",
                 "Destination":{"Bucket":"arn:aws:s3:::%s","StorageClass":"aws-location"}}]}""".formatted(prefix, bucket);
    }

    /** One whole pass of the feed: the versions of {@code bucket} it queued, as "key version". */
    private static List<String> pass(ListingChangeFeed feed, String bucket) throws Exception {
        List<String> queued = new ArrayList<>();
        Instant deadline = Instant.now().plus(Duration.ofMinutes(1));
        long pass = feed.cursor().pass();
        do {
            ChangeFeed.Batch batch = feed.next();
            batch.versions().stream().filter(v -> v.bucket().equals(bucket))
                    .forEach(v -> queued.add(v.metadata().objectKey() + " " + v.metadata().versionId()));
            feed.acknowledge(batch);
        } while ((feed.cursor().pass() == pass || !feed.cursor().done()) && Instant.now().isBefore(deadline));
        return queued;
    }

    private static ListingChangeFeed feedOver(String bucket, int pageSize) {
        Feed feed = feedOver(bucket, pageSize, Duration.ofHours(1));
        feed.rules().put(bucket, rule(bucket, ""));
        return feed.feed();
    }

    private record Feed(ListingChangeFeed feed, DynamoDbRuleStore rules) {
    }

    /** A feed of its own (status table, checkpoint), with its own rule store (empty), so the stack's populator leaves the bucket alone. */
    private static Feed feedOver(String bucket, int pageSize, Duration passInterval) {
        String own = "paging-" + UUID.randomUUID().toString().substring(0, 8);
        BackbeatConfig.TableNames tables = new BackbeatConfig.TableNames(own + "-status", own + "-failed", own + "-state",
                own + "-checkpoints", own + "-metrics", own + "-rules");
        TableSchemas.createMissing(stack.dynamo, tables, Duration.ofSeconds(30));
        var rules = new DynamoDbRuleStore(stack.dynamo, tables.rules());
        return new Feed(new ListingChangeFeed(stack.source, new DynamoDbReplicationStatusStore(stack.dynamo, tables.status(), Clock.systemUTC()),
                BucketRules.fromStore(rules, stack.config.siteNames()),
                new DynamoDbCheckpointStore(stack.dynamo, tables.checkpoints(), Clock.systemUTC()), own, pageSize,
                passInterval, Clock.systemUTC()), rules);
    }

    /** Each key's versions and delete markers, oldest first, from one listing of the whole bucket. */
    private static Map<String, List<String>> listedOldestFirst(String bucket) {
        Map<String, List<Map.Entry<Instant, String>>> byKey = new HashMap<>();
        for (ListObjectVersionsResponse page : stack.source.listObjectVersionsPaginator(r -> r.bucket(bucket))) {
            page.versions().forEach(v -> byKey.computeIfAbsent(v.key(), k -> new ArrayList<>()).add(Map.entry(v.lastModified(), v.versionId())));
            page.deleteMarkers().forEach(d -> byKey.computeIfAbsent(d.key(), k -> new ArrayList<>()).add(Map.entry(d.lastModified(), d.versionId())));
        }
        Map<String, List<String>> result = new java.util.TreeMap<>();
        // Oldest first; versions put in the same millisecond by local-s3's ids, which grow with time.
        byKey.forEach((key, entries) -> result.put(key, entries.stream().sorted(Map.Entry.<Instant, String>comparingByKey()
                .thenComparing(e -> Long.parseLong(e.getValue()))).map(Map.Entry::getValue).toList()));
        return result;
    }
}
