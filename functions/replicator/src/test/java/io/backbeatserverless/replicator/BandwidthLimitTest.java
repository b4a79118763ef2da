package io.backbeatserverless.replicator;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartCopyRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import static org.assertj.core.api.Assertions.assertThat;

/** What a site's bandwidth limit counts, and each instance's share (the rate itself: the bandwidth-cap benchmark). */
class BandwidthLimitTest {

    @Test
    void countsTheBytesEachWriteCarriesToTheSite() {
        ExecutionAttributes none = new ExecutionAttributes();
        assertThat(BandwidthLimit.bytesOf(PutObjectRequest.builder().bucket("b").key("k").contentLength(1234L).build(), none)).isEqualTo(1234);
        assertThat(BandwidthLimit.bytesOf(UploadPartRequest.builder().bucket("b").key("k").contentLength(16L << 20).build(), none))
                .isEqualTo(16L << 20);
        assertThat(BandwidthLimit.bytesOf(UploadPartCopyRequest.builder().copySourceRange("bytes=16777216-33554431").build(), none))
                .as("a part copied by the site: its range").isEqualTo(16L << 20);
        ExecutionAttributes copied = new ExecutionAttributes();
        copied.putAttribute(BandwidthLimit.COPIED_BYTES, 5_000L);
        assertThat(BandwidthLimit.bytesOf(CopyObjectRequest.builder().build(), copied)).as("a whole copy: as its caller says").isEqualTo(5_000);
        assertThat(BandwidthLimit.bytesOf(HeadObjectRequest.builder().bucket("b").key("k").build(), none)).isZero();
    }

    @Test
    void eachInstanceTakesAnEqualShareOfTheSitesLimit() {
        assertThat(new BandwidthLimit("s", 20_000_000, 8).bytesPerSecond()).isEqualTo(2_500_000);
        assertThat(new BandwidthLimit("s", 20_000_000, 1).bytesPerSecond()).isEqualTo(20_000_000);
    }

    @Test
    void aBodyLargerThanOneRefillIsTakenInSlicesRatherThanRefused() {
        BandwidthLimit limit = new BandwidthLimit("s", 100_000_000, 1);
        limit.acquire(25_000_000); // 2.5 refills' worth: slices, none refused
        limit.acquire(1);
    }
}
