package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 31: a version FAILED for a transient cause is retried on its own, with no operator. A site goes down (its
 * proxy resets every connection): the replicator's own retries run out and the version is FAILED, listed as transient
 * with its next retry's time; the site comes back, and the automatic retry (the outage site's schedule is 2 s, 3 s, 5 s)
 * completes it and takes it off the failed list; meanwhile the minute tick reports it waiting
 * ({@code OperationsWaitingForRetry}) (a permanent cause is listed with no retry planned:
 * SitesAndFailuresTest). The stack's S3 servers, Kafka, DynamoDB and every function, as `./localstack/up` runs them.
 */
class AutomaticRetryTest extends StackScenario {

    private static final EmfCapture EMF = EmfCapture.install();

    @Test
    void aVersionFailedWhileItsSiteWasDownCompletesOnceTheSiteIsBackWithNoOperator() {
        String bucket = stack.replicatedBucket(SharedStack.OUTAGE_LOCATION);
        JsonNode failed;
        String version;
        SharedStack.outage().down(true);
        // The ops side an hour behind: the retry is not due yet, so what waits for it stays put while the tick counts it.
        SharedStack.CLOCK.advance(Duration.ofHours(-1));
        try {
            version = stack.source.putObject(r -> r.bucket(bucket).key("outage"), RequestBody.fromString("waits for its site")).versionId();
            failed = await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                    .until(() -> failedEntry(SharedStack.OUTAGE_LOCATION, bucket, "outage"), entry -> entry != null);
            // The minute tick reports each site's versions waiting for their automatic retry (its walk before's count).
            stack.api(200, "POST", "/_/crr/resume/due", Map.of(), null);
            int before = EMF.lines("BackbeatServerless").size();
            stack.api(200, "POST", "/_/crr/resume/due", Map.of(), null);
            assertThat(EMF.lines("BackbeatServerless").subList(before, EMF.lines("BackbeatServerless").size()).stream()
                    .filter(l -> l.path("Site").asText().equals(SharedStack.OUTAGE_LOCATION) && l.has("OperationsWaitingForRetry")))
                    .singleElement().satisfies(l -> assertThat(l.path("OperationsWaitingForRetry").asLong()).isGreaterThanOrEqualTo(1));
        } finally {
            SharedStack.CLOCK.reset();
            SharedStack.outage().down(false);
        }

        assertThat(failed.path("VersionId").asText()).isEqualTo(version);
        assertThat(failed.path("Transient").asBoolean()).as(failed.toString()).isTrue();
        assertThat(failed.path("Reason").asText()).startsWith("gave up after");
        assertThat(Instant.parse(failed.path("NextRetryAt").asText())).as("the next retry is planned")
                .isAfter(Instant.parse(failed.path("FailedAt").asText()));
        stack.awaitSiteStatus(bucket, "outage", version, SharedStack.OUTAGE_LOCATION, ReplicationStatus.COMPLETED);
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("outage-bucket").key(bucket + "/outage")).asUtf8String())
                .isEqualTo("waits for its site");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> failedEntry(SharedStack.OUTAGE_LOCATION, bucket, "outage") == null);
    }

    /** The site's failed entry of {@code bucket}/{@code key}, as the ops API lists it; null when none. */
    static JsonNode failedEntry(String site, String bucket, String key) {
        String marker = null;
        do {
            JsonNode page = stack.api(200, "GET", "/_/crr/failed", marker == null ? Map.of("sitename", site) : Map.of("sitename", site,
                    "marker", marker), null);
            for (JsonNode entry : page.path("Versions")) {
                if (entry.path("Bucket").asText().equals(bucket) && entry.path("Key").asText().equals(key)) {
                    return entry;
                }
            }
            marker = page.path("IsTruncated").asBoolean() ? page.path("NextMarker").asText() : null;
        } while (marker != null);
        return null;
    }
}
