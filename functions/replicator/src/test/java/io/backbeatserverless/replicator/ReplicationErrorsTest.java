package io.backbeatserverless.replicator;

import io.backbeatserverless.replicator.ReplicationErrors.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.UncheckedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

class ReplicationErrorsTest {

    @ParameterizedTest
    @CsvSource({
            "503, SlowDown, RETRYABLE",
            "500, InternalError, RETRYABLE",
            "429, TooManyRequestsException, RETRYABLE",
            "400, RequestTimeout, RETRYABLE",
            "403, AccessDenied, PERMANENT",
            "404, NoSuchBucket, PERMANENT",
            "400, InvalidRequest, PERMANENT",
    })
    void classifiesDestinationServiceErrors(int status, String code, Kind expected) {
        assertThat(ReplicationErrors.classify(s3(status, code))).isEqualTo(expected);
    }

    @Test
    void walksTheCauseChainForConnectionProblems() {
        assertThat(ReplicationErrors.classify(SdkClientException.create("Unable to execute HTTP request",
                new SocketException("Connection reset")))).isEqualTo(Kind.RETRYABLE);
        assertThat(ReplicationErrors.classify(new RuntimeException(new UncheckedIOException(new SocketTimeoutException("Read timed out")))))
                .isEqualTo(Kind.RETRYABLE);
        assertThat(ReplicationErrors.classify(ApiCallAttemptTimeoutException.create(1000))).isEqualTo(Kind.RETRYABLE);
        assertThat(ReplicationErrors.classify(new ReplicationErrors.IntegrityException("mismatch"))).isEqualTo(Kind.RETRYABLE);
        assertThat(ReplicationErrors.classify(new ReplicationErrors.EtagNotMd5Exception("twice"))).as("no retry can succeed")
                .isEqualTo(Kind.PERMANENT);
        assertThat(ReplicationErrors.classify(new IllegalStateException("a bug"))).isEqualTo(Kind.PERMANENT);
    }

    @Test
    void onlyASourceVersionThatIsGoneIsSkippedAForbiddenOneFailsAndAHiccupIsRetried() {
        assertThat(ReplicationErrors.classify(new ReplicationErrors.SourceReadException("GET", s3(404, "NoSuchVersion"))))
                .isEqualTo(Kind.SOURCE_GONE);
        // Wrong or expired credentials, a denied role, clock skew: a failure an operator can see, fix and retry.
        assertThat(ReplicationErrors.classify(new ReplicationErrors.SourceReadException("GET", s3(403, "AccessDenied"))))
                .isEqualTo(Kind.PERMANENT);
        ReplicationOutcome forbidden = ReplicationOutcome.of(new ReplicationErrors.SourceReadException("GET", s3(403, "AccessDenied")), 1);
        assertThat(forbidden.status()).isEqualTo(io.backbeatserverless.core.status.ReplicationStatus.FAILED);
        assertThat(forbidden.reason()).isEqualTo("source: AccessDenied (HTTP 403): msg AccessDenied");
        assertThat(ReplicationErrors.classify(new ReplicationErrors.SourceReadException("GET", s3(503, "SlowDown"))))
                .isEqualTo(Kind.RETRYABLE);
        assertThat(ReplicationErrors.classify(new ReplicationErrors.SourceReadException("GET",
                SdkClientException.create("reset", new SocketException("Connection reset"))))).isEqualTo(Kind.RETRYABLE);
    }

    /** Issue 31: a FAILED outcome says whether its cause is transient, which decides whether it is retried on its own. */
    @Test
    void aFailureOfATransientCauseIsMarkedRetryableAndAPermanentOneIsNot() {
        ReplicationOutcome throttled = ReplicationOutcome.of(s3(503, "SlowDown"), 5);
        assertThat(throttled.status()).isEqualTo(io.backbeatserverless.core.status.ReplicationStatus.FAILED);
        assertThat(throttled.retryable()).isTrue();
        assertThat(ReplicationOutcome.of(SdkClientException.create("reset", new SocketException("Connection reset")), 5).retryable()).isTrue();
        assertThat(ReplicationOutcome.of(s3(404, "NoSuchBucket"), 1).retryable()).isFalse();
        assertThat(ReplicationOutcome.of(s3(403, "AccessDenied"), 1).retryable()).isFalse();
        assertThat(ReplicationOutcome.of(new ReplicationErrors.SiteRefusal("DstBucketObjectLockConfigMissing", s3(400, "InvalidRequest")), 1)
                .retryable()).as("a refused lock waits for an operator").isFalse();
    }

    @Test
    void describesFailuresWithTheServiceCodeAndSide() {
        assertThat(ReplicationErrors.describe(s3(404, "NoSuchBucket"))).isEqualTo("NoSuchBucket (HTTP 404): msg NoSuchBucket");
        assertThat(ReplicationErrors.describe(new ReplicationErrors.SourceReadException("GET", s3(403, "AccessDenied"))))
                .isEqualTo("source: AccessDenied (HTTP 403): msg AccessDenied");
        // Seen in a chaos run as "null (HTTP 503): null": a 503 to a HEAD, which carries no error body.
        S3Exception toHead = (S3Exception) S3Exception.builder().statusCode(503).awsErrorDetails(AwsErrorDetails.builder().build()).build();
        assertThat(ReplicationErrors.describe(toHead)).isEqualTo("Service Unavailable (HTTP 503): no error body (an answer to a HEAD has none)");
    }

    /**
     * Found running as deployed (IAM enforced): a site refusing a HEAD answers 403 with no body, so no error code, and
     * classifying that threw a NullPointerException (Set.contains(null)): the version was FAILED "internal error".
     */
    @Test
    void anErrorAnswerWithoutACodeIsClassifiedByItsStatus() {
        S3Exception forbiddenHead = (S3Exception) S3Exception.builder().statusCode(403).awsErrorDetails(AwsErrorDetails.builder().build()).build();
        assertThat(ReplicationErrors.classify(forbiddenHead)).isEqualTo(Kind.PERMANENT);
        ReplicationOutcome outcome = ReplicationOutcome.of(forbiddenHead, 1);
        assertThat(outcome.reason()).isEqualTo("Forbidden (HTTP 403): no error body (an answer to a HEAD has none)");
        S3Exception unavailableHead = (S3Exception) S3Exception.builder().statusCode(503).awsErrorDetails(AwsErrorDetails.builder().build()).build();
        assertThat(ReplicationErrors.classify(unavailableHead)).isEqualTo(Kind.RETRYABLE);
    }

    @Test
    void aBugIsAnInternalErrorWithItsStackTraceLogged() {
        assertThat(ReplicationErrors.isInternal(new NullPointerException())).isTrue();
        assertThat(ReplicationErrors.isInternal(s3(403, "AccessDenied"))).isFalse();
        assertThat(ReplicationOutcome.of(new IllegalStateException("a bug"), 1).reason()).isEqualTo("internal error: java.lang.IllegalStateException: a bug");
    }

    private static S3Exception s3(int status, String code) {
        return (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("msg " + code).build()).build();
    }
}
