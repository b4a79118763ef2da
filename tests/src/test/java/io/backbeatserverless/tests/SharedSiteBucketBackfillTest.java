package io.backbeatserverless.tests;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.backfill.BackfillPage;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.verify.Finding;
import io.backbeatserverless.replicator.BatchReplicator;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two source buckets replicated into one site bucket whose keys do not name the source bucket (bucketMatch: S3
 * Replication's many-to-one), the same key and the same bytes in both: each source version gets a replica of its own.
 * Before, the second bucket's backfill page took the first one's replica for its own (a listing says sizes and ETags,
 * not whose replica an entry is) and copied nothing, COMPLETED (found by the CloudServer benchmark's backfill runs).
 * Verify by the listings had the same blind spot: a key such a site holds is read whole there (a HEAD says whose replica
 * each entry is), or the other bucket's replica passes for the missing one's.
 * The stack's S3 servers, Kafka and DynamoDB; the replicator and verify in this JVM, as BatchReplicator.create and
 * Verifier.create build them ({@link VerifyInThisJvm}: the stack's own verify worker knows another site bucket).
 */
class SharedSiteBucketBackfillTest extends StackScenario {

    private static final String RULES = """
            {"Role":"arn:aws:iam::root:role/r","Rules":[{"ID":"all","Status":"Enabled","Prefix":"",
             "Destination":{"Bucket":"arn:aws:s3:::shared","StorageClass":"aws-location"}}]}""";

    @Test
    void eachSourceBucketsVersionGetsAReplicaOfItsOwnInASharedSiteBucket() throws Exception {
        String own = UUID.randomUUID().toString().substring(0, 8);
        String siteBucket = newSiteBucket(own);
        BackbeatConfig config = sharedAt(siteBucket);

        try (BatchReplicator replicator = BatchReplicator.create(config, SharedStack.AWS_LOCATION, Clock.systemUTC())) {
            for (String source : List.of("first-" + own, "second-" + own)) {
                stack.source.createBucket(r -> r.bucket(source));
                stack.source.putBucketVersioning(r -> r.bucket(source).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
                var put = stack.source.putObject(r -> r.bucket(source).key("same"), RequestBody.fromString("the same bytes", StandardCharsets.UTF_8));
                var listed = stack.source.headObject(r -> r.bucket(source).key("same").versionId(put.versionId()));
                // The page listed past the 2 s clock margin after the first bucket's replica was written (the benchmark's
                // runs were a minute apart): a site entry older than the listing is taken by its size and ETag.
                var written = stack.destination.listObjectVersions(r -> r.bucket(siteBucket).prefix("same")).versions();
                if (!written.isEmpty()) {
                    Instant past = written.getFirst().lastModified().plusSeconds(3);
                    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(past));
                }
                BackfillPage page = new BackfillPage("job-" + source, 1, 0, source, null, null, "same", List.of(SharedStack.AWS_LOCATION), RULES,
                        List.of(new BackfillPage.PageVersion("same", put.versionId(), listed.contentLength(), listed.eTag().replace("\"", ""),
                                listed.lastModified().toString(), false, 0, Map.of())), Instant.now().toString());

                var result = replicator.replicate(pageEvent(page));

                assertThat(result.completed()).as(result.toString()).isEqualTo(1);
            }
        }

        var atSite = stack.destination.listObjectVersions(r -> r.bucket(siteBucket).prefix("same")).versions();
        assertThat(atSite).as("one replica per source version").hasSize(2);
        assertThat(atSite).extracting(v -> stack.destination.headObject(r -> r.bucket(siteBucket).key("same").versionId(v.versionId()))
                .metadata().get("scal-version-id")).doesNotHaveDuplicates().doesNotContainNull();
    }

    @Test
    void verifyByTheListingsReportsAVersionWhoseKeyHoldsAnotherSourceBucketsIdenticalReplica() throws Exception {
        String own = UUID.randomUUID().toString().substring(0, 8);
        String siteBucket = newSiteBucket(own);
        String first = stack.newVersionedBucket("first");
        String second = stack.newVersionedBucket("second");
        VerifyInThisJvm verify = VerifyInThisJvm.of(stack, sharedAt(siteBucket), own, Map.of(first, RULES, second, RULES));
        BackbeatConfig config = verify.config();
        String kept = putSame(first);
        String lost = putSame(second);
        try (BatchReplicator replicator = BatchReplicator.create(config, SharedStack.AWS_LOCATION, Clock.systemUTC())) {
            var listed = stack.source.headObject(r -> r.bucket(first).key("same").versionId(kept));
            BackfillPage page = new BackfillPage("job-" + first, 1, 0, first, null, null, "same", List.of(SharedStack.AWS_LOCATION), RULES,
                    List.of(new BackfillPage.PageVersion("same", kept, listed.contentLength(), listed.eTag().replace("\"", ""),
                            listed.lastModified().toString(), false, 0, Map.of())), Instant.now().toString());
            assertThat(replicator.replicate(pageEvent(page)).completed()).isEqualTo(1);
        }
        // The site holds the first bucket's replica alone; the second bucket's version, the same bytes, has none there.

        List<Finding> findings = new java.util.ArrayList<>();
        for (String bucket : List.of(first, second)) {
            findings.addAll(verify.findings(bucket, SharedStack.AWS_LOCATION, false));
        }

        assertThat(findings).extracting(f -> f.bucket() + " " + f.kind() + " " + f.versionId())
                .containsExactly(second + " MISSING " + lost);
    }

    private static String newSiteBucket(String own) {
        String siteBucket = "shared-" + own;
        stack.destination.createBucket(r -> r.bucket(siteBucket));
        stack.destination.putBucketVersioning(r -> r.bucket(siteBucket).versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        return siteBucket;
    }

    /** The stack's configuration with its AWS-type site writing into {@code siteBucket}, keys not naming the source bucket. */
    private static BackbeatConfig sharedAt(String siteBucket) {
        return stack.config.withSites(site -> site.name().equals(SharedStack.AWS_LOCATION)
                ? new SiteConfig(site.name(), site.type(), site.endpoint(), siteBucket, true, site.verifyEtagMd5(), site.external(),
                site.serverSideCopy(), site.deleteMarkerHeader()) : site);
    }

    private static String putSame(String bucket) {
        return stack.source.putObject(r -> r.bucket(bucket).key("same"), RequestBody.fromString("the same bytes", StandardCharsets.UTF_8)).versionId();
    }

    private static KafkaEvent pageEvent(BackfillPage page) {
        KafkaEvent event = new KafkaEvent();
        event.setRecords(Map.of("backbeat-replication-0", List.of(KafkaEvent.KafkaEventRecord.builder()
                .withTopic("backbeat-replication").withPartition(0).withOffset(0)
                .withKey(Base64.getEncoder().encodeToString(page.messageKey().getBytes(StandardCharsets.UTF_8)))
                .withValue(Base64.getEncoder().encodeToString(EntryCodec.encode(page))).build())));
        return event;
    }
}
