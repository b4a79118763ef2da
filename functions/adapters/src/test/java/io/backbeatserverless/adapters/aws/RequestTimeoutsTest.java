package io.backbeatserverless.adapters.aws;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class RequestTimeoutsTest {

    private final RequestTimeouts timeouts = new RequestTimeouts(Duration.ofSeconds(20), 1_000_000);

    @Test
    void aSmallRequestGetsTwoSecondsThenDoubleEachAttemptUpToTheBaseAsS3AdvisesForLatency() {
        var head = HeadObjectRequest.builder().bucket("b").key("k").build();
        assertThat(timeouts.limitOf(head, 1)).isEqualTo(Duration.ofSeconds(2));
        assertThat(timeouts.limitOf(head, 2)).isEqualTo(Duration.ofSeconds(4));
        assertThat(timeouts.limitOf(head, 3)).isEqualTo(Duration.ofSeconds(8));
        assertThat(timeouts.limitOf(head, 5)).isEqualTo(Duration.ofSeconds(20));
        assertThat(timeouts.limitOf(head, 40)).isEqualTo(Duration.ofSeconds(20));
        // a small body: the small limit, plus the body at the minimum rate
        assertThat(timeouts.limitOf(PutObjectRequest.builder().bucket("b").key("k").contentLength(100_000L).build(), 1))
                .isEqualTo(Duration.ofMillis(2_100));
    }

    @Test
    void outsideARetriersCallTheFirstAttemptsLimitApplies() {
        assertThat(timeouts.limitOf(HeadObjectRequest.builder().bucket("b").key("k").build())).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aCompletionAndAServerSideCopyKeepTheBaseWhateverTheAttemptButAListingPageIsSmall() {
        assertThat(timeouts.limitOf(software.amazon.awssdk.services.s3.model.ListObjectVersionsRequest.builder().bucket("b").build(), 1))
                .isEqualTo(Duration.ofSeconds(2));
        assertThat(timeouts.limitOf(software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest.builder().bucket("b").key("k")
                .uploadId("u").build(), 1)).isEqualTo(Duration.ofSeconds(20));
        assertThat(timeouts.limitOf(software.amazon.awssdk.services.s3.model.CopyObjectRequest.builder().destinationBucket("b")
                .destinationKey("k").sourceBucket("s").sourceKey("k").build(), 1)).isEqualTo(Duration.ofSeconds(20));
    }

    @Test
    void aLargeBodyGetsTheBaseAndItsLengthAtTheMinimumRateOnTop() {
        assertThat(timeouts.limitOf(PutObjectRequest.builder().bucket("b").key("k").contentLength(10_000_000L).build()))
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(timeouts.limitOf(UploadPartRequest.builder().bucket("b").key("k").contentLength(16L << 20).build()))
                .isEqualTo(Duration.ofMillis(20_000 + (16L << 20) * 1000 / 1_000_000));
    }

    @Test
    void aGetIsLeftToTheSocketTimeoutSinceItsBodyIsReadAtTheCallersPace() {
        assertThat(timeouts.limitOf(GetObjectRequest.builder().bucket("b").key("k").build())).isNull();
    }
}
