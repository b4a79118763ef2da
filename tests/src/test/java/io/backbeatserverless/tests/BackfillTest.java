package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Backfill: a bucket holding 10,000 versions put before its replication rule is replicated whole by the
 * listing feed, with its progress shown by the ops API; the populator restarted mid-way resumes at its
 * saved marker instead of starting over.
 */
class BackfillTest extends StackScenario {

    private static final int VERSIONS = 10_000;

    @Test
    void versionsPutBeforeTheRuleAreAllReplicatedWithProgressAndAResumableMarker() throws Exception {
        String bucket = stack.newVersionedBucket("backfill");
        List<Future<?>> puts = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < VERSIONS; i++) {
                String key = String.format("k%05d", i);
                puts.add(pool.submit(() -> stack.source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString(key))));
            }
            for (Future<?> f : puts) {
                f.get();
            }
        }
        long completedBefore = stack.api("GET", "/_/metrics/crr/aws-location/completions").path("completions").path("results").path("count").asLong();

        stack.source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                .role(StackClients.ROLE).rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                        .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass("aws-location"))).build()));

        // The pass reaches the bucket: progress names it, with its 10,000 versions to scan.
        JsonNode midway = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> stack.api("GET", "/_/backfill/progress"),
                        p -> bucket.equals(p.path("bucket").asText()) && p.path("bucketScanned").asLong() >= 1000);
        assertThat(midway.path("bucketTotal").asLong()).isEqualTo(VERSIONS);
        long passBefore = midway.path("pass").asLong();
        long scannedBefore = midway.path("bucketScanned").asLong();

        SharedStack.stack().restartPopulator();

        JsonNode resumed = stack.api("GET", "/_/backfill/progress");
        assertThat(resumed.path("pass").asLong()).as("the same pass goes on").isEqualTo(passBefore);
        if (bucket.equals(resumed.path("bucket").asText())) {
            assertThat(resumed.path("bucketScanned").asLong()).as("resumed at its marker, not from the start").isGreaterThanOrEqualTo(scannedBefore);
        }
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                .until(() -> replicaCount(bucket) == VERSIONS);
        await().atMost(Duration.ofSeconds(30)).until(() -> stack.api("GET", "/_/metrics/crr/aws-location/completions")
                .path("completions").path("results").path("count").asLong() - completedBefore >= VERSIONS);
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("dest-bucket").key(bucket + "/k04242")).asUtf8String()).isEqualTo("k04242");
    }

    private static long replicaCount(String bucket) {
        long count = 0;
        for (ListObjectVersionsResponse page : stack.destination.listObjectVersionsPaginator(r -> r.bucket("dest-bucket").prefix(bucket + "/"))) {
            count += page.versions().size();
        }
        return count;
    }
}
