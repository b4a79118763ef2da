package io.backbeatserverless.tests;

import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.localstack.EventSourceRunner;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** One-to-many replication, sites independent of each other, and permanent failures recorded with their reason. */
class SitesAndFailuresTest extends StackScenario {


    @Test
    void aRuleNamingTwoSitesReachesEachThroughItsOwnReplicatorAndASlowSiteDoesNotHoldTheOther() {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION + "," + SharedStack.SECOND_LOCATION);
        EventSourceRunner second = SharedStack.stack().replicatorRunner(SharedStack.SECOND_LOCATION);
        assertThat(second.groupId()).isEqualTo("backbeat-replication-second-location");
        assertThat(SharedStack.stack().replicatorRunner(SharedStack.AWS_LOCATION).groupId()).isEqualTo("backbeat-replication-aws-location");

        second.setEnabled(false);
        String version;
        try {
            version = stack.source.putObject(r -> r.bucket(bucket).key("fan-out"), RequestBody.fromString("to both")).versionId();
            stack.awaitReplica(bucket + "/fan-out", version);
            SiteOutcome first = stack.awaitSiteStatus(bucket, "fan-out", version, SharedStack.AWS_LOCATION, ReplicationStatus.COMPLETED);
            assertThat(first.bytes()).isEqualTo(7);
            assertThat(stack.status(bucket, "fan-out", version).orElseThrow().overall())
                    .as("one site done, one pending").isEqualTo(ReplicationStatus.PROCESSING);
            assertThat(stack.head("second-bucket", "fan-out")).isEmpty();
        } finally {
            second.setEnabled(true);
        }

        // bucketMatch: true keeps the key as it is, in the site's own bucket.
        stack.awaitReplica("second-bucket", "fan-out", version);
        stack.awaitSiteStatus(bucket, "fan-out", version, SharedStack.SECOND_LOCATION, ReplicationStatus.COMPLETED);
        assertThat(stack.status(bucket, "fan-out", version).orElseThrow().overall()).isEqualTo(ReplicationStatus.COMPLETED);
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("second-bucket").key("fan-out")).asString(StandardCharsets.UTF_8))
                .isEqualTo("to both");
    }

    @Test
    void aMissingDestinationBucketFailsAtOnceWithTheReason() {
        stack.destination.deleteBucket(r -> r.bucket("gone-bucket"));
        String bucket = stack.replicatedBucket(SharedStack.GONE_LOCATION);

        String version = stack.source.putObject(r -> r.bucket(bucket).key("nowhere"), RequestBody.fromString("lost?")).versionId();

        SiteOutcome outcome = stack.awaitSiteStatus(bucket, "nowhere", version, SharedStack.GONE_LOCATION, ReplicationStatus.FAILED);
        assertThat(outcome.reason()).contains("NoSuchBucket").contains("404");
        assertThat(outcome.attempts()).as("permanent: not retried").isEqualTo(1);
        assertThat(stack.status(bucket, "nowhere", version).orElseThrow().overall()).isEqualTo(ReplicationStatus.FAILED);
        // Issue 31: a permanent cause is listed with no automatic retry planned; it waits for an operator.
        com.fasterxml.jackson.databind.JsonNode listed = org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> AutomaticRetryTest.failedEntry(SharedStack.GONE_LOCATION, bucket, "nowhere"), entry -> entry != null);
        assertThat(listed.path("Transient").asBoolean()).as(listed.toString()).isFalse();
        assertThat(listed.has("NextRetryAt")).isFalse();
    }
}
