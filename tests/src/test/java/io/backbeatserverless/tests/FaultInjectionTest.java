package io.backbeatserverless.tests;

import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionStatus;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Site {@code flaky-location} is reached through a proxy that answers a share of connections with
 * 503 SlowDown, resets a share and cuts a share mid-request. 500 objects and one multipart object are
 * put; every one must end COMPLETED and identical, none lost, with the retries counted.
 */
class FaultInjectionTest extends StackScenario {

    private static final int OBJECTS = 500;

    @Test
    void everyObjectArrivesIdenticalThroughAFlakyNetworkAndTheRetriesAreCounted() throws Exception {
        String bucket = stack.replicatedBucket(SharedStack.FLAKY_LOCATION);
        long faultsBefore = SharedStack.proxy().faults();
        Map<String, byte[]> bodies = new LinkedHashMap<>();
        for (int i = 0; i < OBJECTS; i++) {
            bodies.put("obj-" + i, StackClients.randomBytes(1024 + i * 13));
        }
        bodies.put("large.bin", StackClients.randomBytes(20 * 1024 * 1024));
        Map<String, String> versions = putAll(bucket, bodies);

        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() -> versions.entrySet().stream()
                .allMatch(e -> siteStatus(bucket, e.getKey(), e.getValue()).map(o -> o.status().isFinal() || o.status() == ReplicationStatus.FAILED)
                        .orElse(false)));

        List<SiteOutcome> outcomes = new ArrayList<>();
        for (Map.Entry<String, String> e : versions.entrySet()) {
            SiteOutcome outcome = siteStatus(bucket, e.getKey(), e.getValue()).orElseThrow();
            assertThat(outcome.status()).as(e.getKey() + ": " + outcome.reason()).isEqualTo(ReplicationStatus.COMPLETED);
            outcomes.add(outcome);
            byte[] replica = stack.destination.getObjectAsBytes(r -> r.bucket("flaky-bucket").key(bucket + "/" + e.getKey())).asByteArray();
            assertThat(replica).as(e.getKey()).isEqualTo(bodies.get(e.getKey()));
        }
        long faults = SharedStack.proxy().faults() - faultsBefore;
        int attempts = outcomes.stream().mapToInt(SiteOutcome::attempts).sum();
        assertThat(faults).as("the proxy injected faults").isGreaterThan(0);
        assertThat(attempts).as("retries are counted in the outcomes").isGreaterThan(outcomes.size());
        System.out.printf("fault test: %d objects COMPLETED, %d faults injected in %d requests, %d attempts in all%n",
                outcomes.size(), faults, SharedStack.proxy().requests(), attempts);
    }

    /**
     * Found by the chaos run (issue 12: an extra delete marker at a site). A request whose answer never comes (a reset
     * or a timeout after the store did it) was retried as if it had not been done: on a versioned bucket a DELETE done
     * twice leaves two markers, a PUT done twice two versions. The site's server here does every DELETE, then every
     * PUT, and loses its answer; each must still leave one marker and one version, COMPLETED after a retry.
     */
    @Test
    void aRequestWhoseAnswerWasLostIsNotDoneTwice() throws Exception {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        String first = stack.source.putObject(r -> r.bucket(bucket).key("answer-lost"), RequestBody.fromString("first")).versionId();
        stack.awaitSiteStatus(bucket, "answer-lost", first, SharedStack.AWS_LOCATION, ReplicationStatus.COMPLETED);

        SiteOutcome markerOutcome = withSiteFaults("lost=100 only=DELETE", () -> {
            String marker = stack.source.deleteObject(r -> r.bucket(bucket).key("answer-lost")).versionId();
            return stack.awaitSiteStatus(bucket, "answer-lost", marker, SharedStack.AWS_LOCATION, ReplicationStatus.COMPLETED);
        });
        SiteOutcome putOutcome = withSiteFaults("lost=100 only=PUT", () -> {
            String next = stack.source.putObject(r -> r.bucket(bucket).key("answer-lost"), RequestBody.fromString("next")).versionId();
            return stack.awaitSiteStatus(bucket, "answer-lost", next, SharedStack.AWS_LOCATION, ReplicationStatus.COMPLETED);
        });

        assertThat(markerOutcome.attempts()).as("the DELETE's answer was lost: it was tried again").isGreaterThan(1);
        assertThat(putOutcome.attempts()).as("the PUT's answer was lost: it was tried again").isGreaterThan(1);
        var history = stack.destination.listObjectVersions(r -> r.bucket("dest-bucket").prefix(bucket + "/answer-lost"));
        assertThat(history.deleteMarkers()).as("one marker, as at the source").hasSize(1);
        assertThat(history.versions()).as("first and next, once each").hasSize(2);
    }

    /**
     * Issue 13: a site that holds a request (accepts it, answers much later) cost the socket timeout, 60 s, per read:
     * enough to hold an invocation past its end. Each attempt now has a time limit (RequestTimeouts), and a request
     * cut by it is retryable.
     */
    @Test
    void aSiteThatHoldsARequestCostsTheRequestsTimeLimitNotTheSocketTimeout() throws Exception {
        var site = stack.config.requireSite(SharedStack.AWS_LOCATION);
        try (var client = io.backbeatserverless.adapters.aws.AwsClients.s3(site.endpoint(), 2, false,
                new io.backbeatserverless.adapters.aws.RequestTimeouts(Duration.ofSeconds(2), 1_000_000))) {
            client.putObject(r -> r.bucket(site.bucket()).key("held/k"), RequestBody.fromString("v"));
            withSiteFaults("delay=100 delay-ms=15000 only=HEAD", () -> {
                long started = System.nanoTime();
                Throwable held = org.assertj.core.api.Assertions.catchThrowable(() -> client.headObject(r -> r.bucket(site.bucket()).key("held/k")));
                assertThat(held).isInstanceOf(software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException.class);
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(6));
                assertThat(io.backbeatserverless.replicator.ReplicationErrors.isRetryable(held)).isTrue();
                assertThat(io.backbeatserverless.replicator.ReplicationErrors.mayHaveBeenDone(held)).isTrue();
                return null;
            });
        }
    }

    private static <T> T withSiteFaults(String plan, java.util.concurrent.Callable<T> during) throws Exception {
        SharedStack.stack().injectS3Faults(SharedStack.AWS_LOCATION, plan);
        try {
            return during.call();
        } finally {
            SharedStack.stack().injectS3Faults(SharedStack.AWS_LOCATION, "off");
        }
    }

    private static Optional<SiteOutcome> siteStatus(String bucket, String key, String version) {
        return stack.status(bucket, key, version).map(VersionStatus::sites).map(s -> s.get(SharedStack.FLAKY_LOCATION));
    }

    private static Map<String, String> putAll(String bucket, Map<String, byte[]> bodies) throws Exception {
        Map<String, Future<String>> pending = new LinkedHashMap<>();
        try (ExecutorService executor = Executors.newFixedThreadPool(8)) {
            bodies.forEach((key, body) -> pending.put(key, executor.submit(() ->
                    stack.source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(body)).versionId())));
            Map<String, String> versions = new LinkedHashMap<>();
            for (Map.Entry<String, Future<String>> e : pending.entrySet()) {
                versions.put(e.getKey(), e.getValue().get());
            }
            return versions;
        }
    }
}
