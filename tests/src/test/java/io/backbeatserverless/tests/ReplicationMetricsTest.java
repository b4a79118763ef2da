package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 16: S3 Replication's metrics, as the status function emits them in CloudWatch's embedded metric format, carry
 * the right values for a known workload: four versions of known sizes replicated to one site.
 */
class ReplicationMetricsTest extends StackScenario {

    private static final EmfCapture EMF = EmfCapture.install();

    @Test
    void aKnownWorkloadGivesS3sReplicationMetricsInEmf() {
        String site = SharedStack.AWS_LOCATION;
        String bucket = stack.replicatedBucket(site);
        List<String> versions = new ArrayList<>();
        for (int size : List.of(100, 200, 300, 400)) {
            versions.add(stack.source.putObject(r -> r.bucket(bucket).key("sized-" + size), RequestBody.fromBytes(new byte[size])).versionId());
        }
        for (int i = 0; i < versions.size(); i++) {
            stack.awaitSiteStatus(bucket, "sized-" + (i + 1) * 100, versions.get(i), site, ReplicationStatus.COMPLETED);
        }

        List<JsonNode> ofBucket = await().atMost(Duration.ofSeconds(10)).until(() -> EMF.lines("BackbeatServerless").stream()
                .filter(l -> l.path("SourceBucket").asText().equals(bucket)).toList(),
                lines -> lines.stream().mapToLong(l -> l.path("OperationsReplicated").asLong()).sum() >= 4);
        assertThat(ofBucket).allSatisfy(line -> {
            assertThat(line.path("Site").asText()).isEqualTo(site);
            assertThat(line.path("_aws").path("CloudWatchMetrics").path(0).path("Dimensions").toString()).isEqualTo("[[\"Site\"]]");
        });
        assertThat(ofBucket.stream().mapToLong(l -> l.path("OperationsReplicated").asLong()).sum()).isEqualTo(4);
        assertThat(ofBucket.stream().mapToLong(l -> l.path("BytesReplicated").asLong()).sum()).isEqualTo(1000);
        assertThat(ofBucket.stream().mapToLong(l -> l.path("OperationsFailedReplication").asLong()).sum()).isZero();
        List<Double> latencies = ofBucket.stream().flatMap(l -> values(l.path("ReplicationLatency"))).toList();
        assertThat(latencies).as("one ReplicationLatency value per version, in seconds").hasSize(4)
                .allSatisfy(seconds -> assertThat(seconds).isBetween(0.0, 60.0));
        JsonNode units = ofBucket.getFirst().path("_aws").path("CloudWatchMetrics").path(0).path("Metrics");
        assertThat(units.toString()).contains("{\"Name\":\"ReplicationLatency\",\"Unit\":\"Seconds\"}");

        // The site's backlog at the next minute tick: what the ops API says is pending.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            stack.api(200, "POST", "/_/crr/resume/due", java.util.Map.of(), null);
            JsonNode pending = stack.api("GET", "/_/metrics/crr/" + site + "/pending").path("pending").path("results");
            JsonNode last = EMF.lines("BackbeatServerless").stream().filter(l -> l.path("Site").asText().equals(site)
                    && l.has("OperationsPendingReplication")).reduce((a, b) -> b).orElseThrow();
            assertThat(last.path("OperationsPendingReplication").asLong()).isEqualTo(pending.path("count").asLong());
            assertThat(last.path("BytesPendingReplication").asLong()).isEqualTo(pending.path("size").asLong());
        });
    }

    /** The minute tick (a schedule in AWS) reports every site's backlog, outcomes or not: a paused site's too. */
    @Test
    void theMinuteTickReportsEverySitesBacklog() {
        int before = EMF.lines("BackbeatServerless").size();

        JsonNode tick = stack.api(200, "POST", "/_/crr/resume/due", java.util.Map.of(), null);

        assertThat(tick.path("backlogReported")).extracting(JsonNode::asText).contains(SharedStack.PAUSE_LOCATION, SharedStack.AWS_LOCATION);
        List<JsonNode> reported = EMF.lines("BackbeatServerless").subList(before, EMF.lines("BackbeatServerless").size()).stream()
                .filter(l -> l.has("OperationsPendingReplication")).toList();
        assertThat(reported).extracting(l -> l.path("Site").asText()).contains(SharedStack.PAUSE_LOCATION, SharedStack.AWS_LOCATION);
        JsonNode pending = stack.api("GET", "/_/metrics/crr/" + SharedStack.PAUSE_LOCATION + "/pending").path("pending").path("results");
        assertThat(reported.stream().filter(l -> l.path("Site").asText().equals(SharedStack.PAUSE_LOCATION)).findFirst().orElseThrow()
                .path("OperationsPendingReplication").asLong()).isEqualTo(pending.path("count").asLong());
    }

    private static java.util.stream.Stream<Double> values(JsonNode metric) {
        if (metric.isMissingNode()) {
            return java.util.stream.Stream.empty();
        }
        return metric.isArray() ? StreamSupport.stream(metric.spliterator(), false).map(JsonNode::asDouble)
                : java.util.stream.Stream.of(metric.asDouble());
    }
}
