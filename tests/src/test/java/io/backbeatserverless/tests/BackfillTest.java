package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Backfill: a bucket holding 5,000 versions and delete markers, interleaved, put before its replication rule, is
 * replicated whole by the listing feed ({@value SharedStack#LISTING_PAGE} a page, so across 50 pages), with its
 * progress shown by the ops API; the populator restarted mid-way resumes at its saved marker instead of starting
 * over. Verify, not a count of replicas, says nothing was lost.
 */
class BackfillTest extends StackScenario {

    private static final int KEYS = 1_250;
    private static final int ENTRIES = KEYS * 4;

    @Test
    void versionsAndDeleteMarkersPutBeforeTheRuleAreAllReplicated() throws Exception {
        String bucket = stack.newVersionedBucket("backfill");
        stack.putInterleaved(bucket, KEYS);

        stack.source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                .role(StackClients.ROLE).rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                        .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass("aws-location"))).build()));

        // The pass reaches the bucket: progress names it, with its 5,000 entries to scan.
        JsonNode midway = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> stack.api("GET", "/_/backfill/progress"),
                        p -> bucket.equals(p.path("bucket").asText()) && p.path("bucketScanned").asLong() >= 500);
        assertThat(midway.path("bucketTotal").asLong()).isEqualTo(ENTRIES);
        long passBefore = midway.path("pass").asLong();
        long scannedBefore = midway.path("bucketScanned").asLong();

        SharedStack.stack().restartPopulator();

        JsonNode resumed = stack.api("GET", "/_/backfill/progress");
        assertThat(resumed.path("pass").asLong()).as("the same pass goes on").isEqualTo(passBefore);
        if (bucket.equals(resumed.path("bucket").asText())) {
            assertThat(resumed.path("bucketScanned").asLong()).as("resumed at its marker, not from the start").isGreaterThanOrEqualTo(scannedBefore);
        }
        JsonNode run = await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(2))
                .until(() -> VerifyTest.verify(bucket, false), r -> r.path("Clean").asBoolean()
                        && r.path("Sites").path("aws-location").path("Identical").asLong() == ENTRIES);
        assertThat(run.path("Sites").path("aws-location").path("Expected").asLong()).isEqualTo(ENTRIES);
        assertThat(run.path("Total").path("Extra").asLong()).isZero();
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("dest-bucket").key(bucket + "/k01242")).asUtf8String()).isEqualTo("k01242/3");
    }
}
