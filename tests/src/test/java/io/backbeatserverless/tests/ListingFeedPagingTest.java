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
import io.backbeatserverless.core.status.ReplicationStatus;
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

    /**
     * A page's new versions are recorded as queued (PENDING) in batches of 25 before the publisher has them: before, one
     * UpdateItem per version after the publish (a round trip per version: most of the populator's CPU in the race
     * benchmark; and written after the publish, a fast outcome could land first). Nothing is lost between the record and
     * the publish, and only the page in flight is queued again: a page whose publish failed (not acknowledged) is served
     * again, its versions still new; a feed started later (a restarted populator) queues again, once, the page an earlier
     * one recorded but never acknowledged, and not the versions of acknowledged pages that are still PENDING (queueing
     * those again after every restart was a backlog of duplicates that the chaos run caught).
     */
    @Test
    void queuedVersionsAreRecordedInBatchesBeforeThePublishAndOnlyThePageInFlightIsQueuedAgain() throws Exception {
        String bucket = stack.newVersionedBucket("queued");
        List<String> versions = putKeys(bucket, 60);
        Map<String, Integer> calls = new java.util.concurrent.ConcurrentHashMap<>();
        var endpoint = stack.config.dynamodb().endpoint();
        try (var counted = software.amazon.awssdk.services.dynamodb.DynamoDbClient.builder().endpointOverride(endpoint.uri())
                .region(software.amazon.awssdk.regions.Region.of(endpoint.region()))
                .credentialsProvider(io.backbeatserverless.adapters.aws.AwsClients.credentials(endpoint))
                .overrideConfiguration(c -> c.addExecutionInterceptor(new software.amazon.awssdk.core.interceptor.ExecutionInterceptor() {
                    @Override
                    public void beforeExecution(software.amazon.awssdk.core.interceptor.Context.BeforeExecution context,
                                                software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
                        calls.merge(attributes.getAttribute(software.amazon.awssdk.core.interceptor.SdkExecutionAttribute.OPERATION_NAME), 1,
                                Integer::sum);
                    }
                })).build()) {
            Tables tables = Tables.create();
            tables.rules().put(bucket, rule(bucket, ""));
            ListingChangeFeed first = tables.feed(counted, 25, Duration.ofHours(1));

            // The first page is published and acknowledged; its versions stay PENDING (nothing replicates them here).
            ChangeFeed.Batch acknowledged = pageOf(first, bucket);
            int firstPage = acknowledged.versions().size(); // a page holds whole keys: the last one may wait for the next
            assertThat(firstPage).isBetween(20, 25);
            assertThat(queued(acknowledged, bucket)).containsExactlyElementsOf(versions.subList(0, firstPage));
            assertThat(tables.store().findAll(acknowledged.versions().stream().map(SourceVersion::ref).toList()).values())
                    .as("recorded PENDING before the publisher has them").hasSize(firstPage)
                    .allSatisfy(v -> assertThat(v.sites().get("aws-location").status()).isEqualTo(ReplicationStatus.PENDING));
            first.acknowledge(acknowledged);

            // The second page's publish fails: not acknowledged, it is served again, its versions still new (not written again).
            List<String> secondPage = queued(first.next(), bucket);
            assertThat(secondPage).hasSizeBetween(20, 25).containsExactlyElementsOf(versions.subList(firstPage, firstPage + secondPage.size()));
            assertThat(queued(first.next(), bucket)).as("served again").containsExactlyElementsOf(secondPage);
            assertThat(calls.getOrDefault("UpdateItem", 0)).as("no round trip per version").isZero();
            assertThat(calls.get("BatchWriteItem")).as("two pages of 25 versions, once each").isEqualTo(2);

            // That populator dies there; the next one queues the page in flight again, not the acknowledged page's versions.
            ListingChangeFeed restarted = tables.feed(stack.dynamo, 25, Duration.ofHours(1));
            ChangeFeed.Batch again = restarted.next();
            assertThat(queued(again, bucket)).as("recorded, maybe never published: queued again").containsExactlyElementsOf(secondPage);
            restarted.acknowledge(again);
            List<String> rest = new ArrayList<>();
            while (restarted.cursor().bucket() != null && restarted.cursor().bucket().equals(bucket)) {
                ChangeFeed.Batch page = restarted.next();
                rest.addAll(queued(page, bucket));
                restarted.acknowledge(page);
            }
            assertThat(rest).containsExactlyElementsOf(versions.subList(firstPage + secondPage.size(), 60));
            ListingChangeFeed restartedAgain = tables.feed(stack.dynamo, 25, Duration.ZERO);
            List<String> queuedAfterRestart = new ArrayList<>(pass(restartedAgain, bucket)); // the rest of the pass
            queuedAfterRestart.addAll(pass(restartedAgain, bucket)); // a whole pass, the bucket included
            assertThat(restartedAgain.cursor().pass()).isEqualTo(2);
            assertThat(queuedAfterRestart).as("every page acknowledged: nothing queued again, though all are PENDING").isEmpty();
        }
    }

    /**
     * A populator that died with a page of 50 in flight, followed by one configured with pages of 25: the whole in-flight
     * range is queued again, over the two smaller pages it now spans, not only the first of them.
     */
    @Test
    void thePageInFlightIsQueuedAgainWholeWhenThePageSizeShrinks() throws Exception {
        String bucket = stack.newVersionedBucket("shrink");
        List<String> versions = putKeys(bucket, 60);
        Tables tables = Tables.create();
        tables.rules().put(bucket, rule(bucket, ""));
        List<String> inFlight = queued(pageOf(tables.feed(stack.dynamo, 50, Duration.ofHours(1)), bucket), bucket);
        assertThat(inFlight).hasSizeGreaterThan(25); // recorded PENDING, never acknowledged: that populator died

        ListingChangeFeed smaller = tables.feed(stack.dynamo, 25, Duration.ofHours(1));
        List<String> queuedAgain = new ArrayList<>();
        do {
            ChangeFeed.Batch page = smaller.next();
            queuedAgain.addAll(queued(page, bucket));
            smaller.acknowledge(page);
        } while (bucket.equals(smaller.cursor().bucket()));
        assertThat(queuedAgain).as("the in-flight versions again, then the rest, each once").containsExactlyElementsOf(versions);
    }

    /** Puts keys k000, k001, … one version each; returns them as "key version", in key order. */
    private static List<String> putKeys(String bucket, int count) {
        List<String> versions = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String key = String.format("k%03d", i);
            versions.add(key + " " + stack.source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString(key)).versionId());
        }
        return versions;
    }

    /** The feed's next batch holding versions of {@code bucket}, the other buckets' batches (the stack's, no rules here) acknowledged. */
    private static ChangeFeed.Batch pageOf(ListingChangeFeed feed, String bucket) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(1));
        while (Instant.now().isBefore(deadline)) {
            ChangeFeed.Batch batch = feed.next();
            if (batch.versions().stream().anyMatch(v -> v.bucket().equals(bucket))) {
                return batch;
            }
            feed.acknowledge(batch);
        }
        throw new AssertionError("no page of " + bucket + " within a minute");
    }

    private static List<String> queued(ChangeFeed.Batch batch, String bucket) {
        return batch.versions().stream().filter(v -> v.bucket().equals(bucket))
                .map(v -> v.metadata().objectKey() + " " + v.metadata().versionId()).toList();
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
        Tables tables = Tables.create();
        return new Feed(tables.feed(stack.dynamo, pageSize, passInterval), tables.rules());
    }

    /** Tables of a feed's own; each feed made over them is a populator (re)started on them. */
    private record Tables(String name, BackbeatConfig.TableNames names, DynamoDbRuleStore rules) {
        static Tables create() {
            String own = "paging-" + UUID.randomUUID().toString().substring(0, 8);
            BackbeatConfig.TableNames names = new BackbeatConfig.TableNames(own + "-status", own + "-failed", own + "-state",
                    own + "-checkpoints", own + "-metrics", own + "-rules");
            TableSchemas.createMissing(stack.dynamo, names, Duration.ofSeconds(30));
            return new Tables(own, names, new DynamoDbRuleStore(stack.dynamo, names.rules()));
        }

        DynamoDbReplicationStatusStore store() {
            return new DynamoDbReplicationStatusStore(stack.dynamo, names.status(), Clock.systemUTC());
        }

        ListingChangeFeed feed(software.amazon.awssdk.services.dynamodb.DynamoDbClient statusClient, Duration passInterval) {
            return feed(statusClient, 100, passInterval);
        }

        ListingChangeFeed feed(software.amazon.awssdk.services.dynamodb.DynamoDbClient statusClient, int pageSize, Duration passInterval) {
            return new ListingChangeFeed(stack.source, new DynamoDbReplicationStatusStore(statusClient, names.status(), Clock.systemUTC()),
                    BucketRules.fromStore(rules, stack.config.siteNames()),
                    new DynamoDbCheckpointStore(stack.dynamo, names.checkpoints(), Clock.systemUTC()), name, pageSize,
                    passInterval, Clock.systemUTC());
        }
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
