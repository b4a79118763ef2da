package io.backbeatserverless.tests;

import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 31: a slow site stalls nothing, and a site's bandwidth limit holds. On the stack's S3 servers, Kafka, DynamoDB and
 * functions, as `./localstack/up` runs them.
 */
class SlowSiteTest extends StackScenario {

    /**
     * A request the site sits on (its proxy holds it until the test ends) costs its version 2 s, the first attempt's limit
     * of a small request, not the 20 s every request had before: the version is tried again and completes, and so does the
     * key written after it in the same batch; the other site, which has its own replicator, does not wait at all.
     */
    @Test
    void aRequestTheSiteHoldsCostsItsVersionTwoSecondsAndTheOtherSiteNothing() throws Exception {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION + "," + SharedStack.OUTAGE_LOCATION);
        CountDownLatch release = new CountDownLatch(1);
        var held = SharedStack.outage().holdOnce(head -> head.startsWith("HEAD /outage-bucket/" + bucket + "/held "), () -> {
            try {
                release.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            String heldVersion = stack.source.putObject(r -> r.bucket(bucket).key("held"), RequestBody.fromString("held once")).versionId();
            String nextVersion = stack.source.putObject(r -> r.bucket(bucket).key("next"), RequestBody.fromString("next")).versionId();

            SiteOutcome atOtherSite = stack.awaitSiteStatus(bucket, "held", heldVersion, SharedStack.AWS_LOCATION, ReplicationStatus.COMPLETED);
            assertThat(atOtherSite.attempts()).isEqualTo(1);
            // Well within the 20 s a held request used to cost: the first attempt is cut at 2 s and the second goes through.
            SiteOutcome heldOutcome = await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                    .until(() -> stack.status(bucket, "held", heldVersion).map(v -> v.sites().get(SharedStack.OUTAGE_LOCATION)).orElse(null),
                            o -> o != null && o.status() == ReplicationStatus.COMPLETED);
            assertThat(heldOutcome.attempts()).as("the held attempt, then one that went through").isGreaterThanOrEqualTo(2);
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                    .until(() -> stack.status(bucket, "next", nextVersion).map(v -> v.sites().get(SharedStack.OUTAGE_LOCATION)).orElse(null),
                            o -> o != null && o.status() == ReplicationStatus.COMPLETED);
            assertThat(held.isDone()).as("the held request is still held: nothing waited for it").isFalse();
            assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("outage-bucket").key(bucket + "/held")).asUtf8String())
                    .isEqualTo("held once");
        } finally {
            release.countDown();
        }
    }

    /**
     * A site's bandwidth limit: a version three times the limit's bytes per second takes three seconds to reach the site (the
     * limit is never exceeded, whatever the machine's load), and still completes in one attempt, since it waits its turn
     * before its request starts, outside the request's time limit; a small version after it is not starved.
     */
    @Test
    void aSitesBandwidthLimitHoldsAndAVersionLargerThanASecondsWorthStillCompletes() {
        String bucket = stack.replicatedBucket(SharedStack.CAPPED_LOCATION);
        byte[] large = new byte[(int) (3 * SharedStack.CAPPED_BYTES_PER_SECOND)];
        new java.util.Random(31).nextBytes(large);
        long started = System.nanoTime();
        String largeVersion = stack.source.putObject(r -> r.bucket(bucket).key("large"), RequestBody.fromBytes(large)).versionId();
        String smallVersion = stack.source.putObject(r -> r.bucket(bucket).key("small"), RequestBody.fromString("small")).versionId();

        SiteOutcome largeOutcome = stack.awaitSiteStatus(bucket, "large", largeVersion, SharedStack.CAPPED_LOCATION, ReplicationStatus.COMPLETED);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        stack.awaitSiteStatus(bucket, "small", smallVersion, SharedStack.CAPPED_LOCATION, ReplicationStatus.COMPLETED);

        assertThat(largeOutcome.attempts()).as("no attempt timed out while it waited for bandwidth").isEqualTo(1);
        assertThat(largeOutcome.bytes()).isEqualTo(large.length);
        // 3 MiB at 1 MiB/s: the first tenth of a second's worth is there at once, the rest comes at the limit's pace.
        assertThat(took).as("the limit holds").isGreaterThanOrEqualTo(Duration.ofMillis(2_800));
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("capped-bucket").key(bucket + "/large")).asByteArray()).isEqualTo(large);
    }
}
