package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Backfill as a job of pages (issue 29). A rule put on a bucket that holds 5,000 versions and delete markers,
 * interleaved, starts a job: the populator lists the bucket {@value SharedStack#LISTING_PAGE} entries a page and
 * publishes one entry per page (not one per version), the replicator lists the site over each page's range and copies
 * what is missing, and the job reports each site's counts. The populator restarted mid-way resumes at the job's cursor.
 * Verify, not a count of replicas, says nothing was lost; status lookups answer for the pages' versions.
 */
class BackfillTest extends StackScenario {

    private static final int KEYS = 1_250;
    private static final int ENTRIES = KEYS * 4;

    static JsonNode jobOf(String bucket) {
        for (JsonNode job : stack.api("GET", "/_/backfill/jobs").path("Jobs")) {
            if (bucket.equals(job.path("Bucket").asText())) {
                return job;
            }
        }
        return null;
    }

    static JsonNode awaitDone(String id) {
        return await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
                .until(() -> stack.api("GET", "/_/backfill/jobs/" + id), j -> j.path("State").asText().matches("DONE|FAILED"));
    }

    @Test
    void aRuleOnAFullBucketStartsAJobThatReplicatesItAPageAtATime() throws Exception {
        String bucket = stack.newVersionedBucket("backfill");
        stack.putInterleaved(bucket, KEYS);

        stack.source.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                .role(StackClients.ROLE).rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                        .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass("aws-location"))).build()));

        // The listing feed meets the bucket with rules and hands its versions to a job, which lists it page after page.
        JsonNode midway = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> jobOf(bucket), j -> j != null && j.path("Listing").path("Pages").asLong() >= 5);
        String id = midway.path("Id").asText();
        long scannedBefore = midway.path("Listing").path("Scanned").asLong();

        SharedStack.stack().restartPopulator();

        JsonNode done = awaitDone(id);
        assertThat(done.path("State").asText()).isEqualTo("DONE");
        assertThat(done.path("Listing").path("Scanned").asLong()).as("resumed at its cursor, not from the start")
                .isEqualTo(ENTRIES).isGreaterThanOrEqualTo(scannedBefore);
        assertThat(done.path("Listing").path("Queued").asLong()).isEqualTo(ENTRIES);
        // One entry per page: a page of 100 entries holds 24 whole keys of 4 (the 25th, cut, starts the next page).
        assertThat(done.path("Listing").path("Pages").asLong()).isBetween((long) ENTRIES / SharedStack.LISTING_PAGE, KEYS / 24L + 1);
        JsonNode site = done.path("BySite").path("aws-location");
        assertThat(site.path("Completed").asLong()).isEqualTo(ENTRIES);
        assertThat(site.path("Failed").asLong() + site.path("Skipped").asLong()).isZero();
        assertThat(site.path("Progress").asText()).isEqualTo("100%");

        JsonNode run = VerifyTest.verify(bucket, false);
        assertThat(run.path("Clean").asBoolean()).as(run.toString()).isTrue();
        assertThat(run.path("Sites").path("aws-location").path("Identical").asLong()).isEqualTo(ENTRIES);
        assertThat(run.path("Total").path("Extra").asLong()).isZero();
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("dest-bucket").key(bucket + "/k01242")).asUtf8String()).isEqualTo("k01242/3");

        // A version of a page reads COMPLETED, as one replicated alone does.
        String versionId = stack.source.headObject(r -> r.bucket(bucket).key("k01242")).versionId();
        JsonNode progress = stack.api(200, "GET", "/_/metrics/crr/aws-location/progress/" + bucket + "/k01242",
                Map.of("versionId", versionId), null);
        assertThat(progress.path("progress").asText()).isEqualTo("100%");
    }

    @Test
    void aJobStartedAgainCopiesNothingTheSiteHasAndWhatIsMissingInOrder() throws Exception {
        String bucket = stack.replicatedBucket("aws-location");
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String key = String.format("again/%03d", i);
            keys.add(key);
            for (int v = 0; v <= i % 3; v++) {
                String body = key + "/" + v;
                stack.source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString(body));
            }
        }
        int versions = 60 + 40 + 20;
        JsonNode first = await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> VerifyTest.verify(bucket, false), r -> r.path("Clean").asBoolean()
                        && r.path("Sites").path("aws-location").path("Identical").asLong() == versions);
        assertThat(first.path("Total").path("Extra").asLong()).isZero();
        // A key removed from the site: missing there now, its versions copied again, oldest first.
        String gone = "again/002";
        var atSite = stack.destination.listObjectVersions(r -> r.bucket("dest-bucket").prefix(bucket + "/" + gone));
        atSite.versions().forEach(v -> stack.destination.deleteObject(r -> r.bucket("dest-bucket").key(v.key()).versionId(v.versionId())));

        JsonNode started = stack.api(202, "POST", "/_/backfill/jobs", Map.of(), "{\"Bucket\":\"" + bucket + "\",\"Sites\":[\"aws-location\"]}");
        JsonNode done = awaitDone(started.path("Id").asText());
        assertThat(done.path("State").asText()).as(done.toString()).isEqualTo("DONE");
        assertThat(done.path("BySite").path("aws-location").path("Completed").asLong()).isEqualTo(versions);

        JsonNode run = VerifyTest.verify(bucket, false);
        assertThat(run.path("Clean").asBoolean()).as(run.toString()).isTrue();
        assertThat(run.path("Sites").path("aws-location").path("Identical").asLong()).isEqualTo(versions);
        assertThat(run.path("Total").path("Extra").asLong()).as("nothing the site had was copied again").isZero();
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("dest-bucket").key(bucket + "/" + gone)).asUtf8String())
                .as("the newest version is the latest again").isEqualTo(gone + "/2");
    }

    @Test
    void aJobOfABucketWithoutRulesFailsWithTheReason() {
        String bucket = stack.newVersionedBucket("norules");
        JsonNode started = stack.api(202, "POST", "/_/backfill/jobs", Map.of(), "{\"Bucket\":\"" + bucket + "\"}");
        JsonNode done = awaitDone(started.path("Id").asText());
        assertThat(done.path("State").asText()).isEqualTo("FAILED");
        assertThat(done.path("Error").asText()).contains("'" + bucket + "'", "no replication configuration");
        stack.api(400, "POST", "/_/backfill/jobs", Map.of(), "{\"Bucket\":\"" + bucket + "\",\"Sites\":[\"no-such-site\"]}");
    }
}
