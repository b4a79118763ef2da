package io.backbeatserverless.tests;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.ops.OpsHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Each ops test event of {@code events/}, read with Lambda's own serializer and given to the ops
 * function's handler (as the AWS console's Test button does), has its effect on the embedded stack.
 * The events name site {@code aws-location}; the retry events are pointed at a failed entry made here.
 */
class OpsEventsTest extends StackScenario {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static OpsHandler handler;

    @BeforeAll
    static void start() {
        handler = new OpsHandler(SharedStack.stack().ops().api());
    }

    @AfterEach
    void resumeAwsLocation() {
        stack.api("POST", "/_/crr/resume/aws-location");
    }

    /**
     * A query string that is not percent-encoding, or a body flagged base64 that is not, is the client's mistake: a 400
     * that says so, as the local server answers it (before, the handler threw, which Lambda reports as the function's error).
     */
    @Test
    void aMalformedQueryOrBodyIsAClientError() throws Exception {
        var badQuery = new com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent();
        badQuery.setRawPath("/_/crr/failed");
        badQuery.setRawQueryString("sitename=%zz");
        var answer = handler.handleRequest(badQuery, null);
        assertThat(answer.getStatusCode()).isEqualTo(400);
        assertThat(MAPPER.readTree(answer.getBody()).path("code").asText()).isEqualTo("InvalidQueryString");

        var badBody = new com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent();
        badBody.setRawPath("/_/crr/failed");
        badBody.setBody("*** not base64 ***");
        badBody.setIsBase64Encoded(true);
        answer = handler.handleRequest(badBody, null);
        assertThat(answer.getStatusCode()).isEqualTo(400);
        assertThat(MAPPER.readTree(answer.getBody()).path("message").asText()).contains("base64");
    }

    @Test
    void pauseScheduleResumeStatusAndMetricsEvents() throws Exception {
        assertThat(invoke("ops-pause-site.json", null).getStatusCode()).isEqualTo(200);
        assertThat(stack.api("GET", "/_/crr/status/aws-location").path("aws-location").asText()).isEqualTo("disabled");
        assertThat(body(invoke("ops-status.json", null)).path("aws-location").asText()).isEqualTo("disabled");

        Instant before = Instant.now();
        assertThat(invoke("ops-schedule-resume.json", null).getStatusCode()).isEqualTo(200);
        Instant at = Instant.parse(stack.api("GET", "/_/crr/resume/aws-location").path("aws-location").asText());
        assertThat(at).isBetween(before.plus(Duration.ofHours(6)).minusSeconds(5), before.plus(Duration.ofHours(6)).plusSeconds(60));

        assertThat(invoke("ops-resume-site.json", null).getStatusCode()).isEqualTo(200);
        assertThat(stack.api("GET", "/_/crr/status/aws-location").path("aws-location").asText()).isEqualTo("enabled");
        assertThat(stack.api("GET", "/_/crr/resume/aws-location").path("aws-location").asText()).as("a manual resume cancels the schedule")
                .isEqualTo("none");

        JsonNode metrics = body(invoke("ops-metrics.json", null));
        assertThat(metrics.has("backlog") && metrics.has("completions") && metrics.has("throughput")).isTrue();
    }

    @Test
    void listAndRetryEventsRequeueFailedEntries() throws Exception {
        // The events name aws-location; this test points them at retry-location, whose bucket it takes away.
        String site = SharedStack.RETRY_LOCATION;
        stack.removeDestinationBucket("retry-bucket");
        String bucket = stack.replicatedBucket(site);
        String version = stack.source.putObject(r -> r.bucket(bucket).key("key0"), RequestBody.fromString("retry me")).versionId();
        stack.awaitSiteStatus(bucket, "key0", version, site, ReplicationStatus.FAILED);

        JsonNode list = body(invoke(event("ops-list-failed.json", site)));
        assertThat(list.path("Versions").findValuesAsText("VersionId")).contains(version);

        // Retry one while the bucket is still missing: re-queued, fails again, back in the failed set.
        String retryOne = event("ops-retry-one.json", site).replace("sourcebucket", bucket).replace("REPLACE-WITH-VERSION-ID", version);
        assertThat(body(invoke(retryOne)).findValuesAsText("VersionId")).containsExactly(version);
        await().atMost(Duration.ofSeconds(15)).until(() -> body(invoke(event("ops-list-failed.json", site)))
                .path("Versions").findValuesAsText("VersionId").contains(version));

        // Retry all once the bucket is back: replicated.
        stack.createDestinationBucket("retry-bucket");
        assertThat(body(invoke(event("ops-retry-all-failed.json", site))).path("Retried").asInt()).isGreaterThanOrEqualTo(1);
        stack.awaitSiteStatus(bucket, "key0", version, site, ReplicationStatus.COMPLETED);
        assertThat(stack.head("retry-bucket", bucket + "/key0")).isPresent();
    }

    private static String event(String file, String site) throws Exception {
        return Files.readString(Path.of("../events/" + file)).replace("aws-location", site);
    }

    private static APIGatewayV2HTTPResponse invoke(String file, String json) throws Exception {
        return invoke(json != null ? json : Files.readString(Path.of("../events/" + file)));
    }

    private static APIGatewayV2HTTPResponse invoke(String text) throws Exception {
        APIGatewayV2HTTPEvent event = LambdaEventSerializers.serializerFor(APIGatewayV2HTTPEvent.class, OpsEventsTest.class.getClassLoader())
                .fromJson(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
        return handler.handleRequest(event, null);
    }

    private static JsonNode body(APIGatewayV2HTTPResponse response) throws Exception {
        assertThat(response.getStatusCode()).as(response.getBody()).isEqualTo(200);
        return MAPPER.readTree(response.getBody());
    }
}
