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
    void aRequestWithoutABodyGetsTheBaseAndOneWithABodyItsLengthAtTheMinimumRateOnTop() {
        assertThat(timeouts.limitOf(HeadObjectRequest.builder().bucket("b").key("k").build())).isEqualTo(Duration.ofSeconds(20));
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
