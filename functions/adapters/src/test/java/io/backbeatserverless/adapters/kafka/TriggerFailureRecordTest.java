package io.backbeatserverless.adapters.kafka;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The S3 on-failure record of an MSK trigger, shaped as the Lambda Developer Guide shows it (with-msk-on-failure.html). */
class TriggerFailureRecordTest {

    @Test
    void readsTheBatchsRecordsFromThePayloadAndItsOffsetsFromTheMetadata() throws IOException {
        TriggerFailureRecord failure = TriggerFailureRecord.parse(fixture("msk-on-failure-s3.json"));

        assertThat(failure.condition()).isEqualTo("RetryAttemptsExhausted");
        assertThat(failure.functionArn()).endsWith(":function:Backbeat-Replicatorawslocation");
        assertThat(failure.ranges()).containsExactly(new TriggerFailureRecord.Range("backbeat-replication", 3, 41, 42));
        assertThat(failure.records()).hasSize(2).allSatisfy(r -> assertThat(r.topic()).isEqualTo("backbeat-replication"));
        assertThat(failure.records().get(0).key()).isEqualTo("src%2Fphotos%2Fcat.jpg");
        assertThat(failure.records().get(0).position()).isEqualTo("backbeat-replication-3@41");
        assertThat(new String(failure.records().get(0).value(), StandardCharsets.UTF_8)).contains("photos/cat.jpg");
    }

    @Test
    void withoutAPayloadTheOffsetsSayWhereTheRecordsAre() {
        TriggerFailureRecord failure = TriggerFailureRecord.parse(("{\"requestContext\":{\"condition\":\"MaximumPayloadSizeExceeded\"},"
                + "\"KafkaBatchInfo\":{\"recordsInfo\":{\"backbeat-replication-status-0\":{\"firstRecordOffset\":7,"
                + "\"lastRecordOffset\":9}}}}").getBytes(StandardCharsets.UTF_8));

        assertThat(failure.hasPayload()).isFalse();
        assertThat(failure.ranges()).containsExactly(new TriggerFailureRecord.Range("backbeat-replication-status", 0, 7, 9));
    }

    @Test
    void somethingElseIsRefusedSayingWhy() {
        assertThatThrownBy(() -> TriggerFailureRecord.parse("not json".getBytes(StandardCharsets.UTF_8)))
                .hasMessageStartingWith("not JSON");
        assertThatThrownBy(() -> TriggerFailureRecord.parse("{\"Records\":[]}".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("no KafkaBatchInfo");
    }

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = TriggerFailureRecordTest.class.getResourceAsStream("/" + name)) {
            return in.readAllBytes();
        }
    }
}
