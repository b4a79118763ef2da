package io.backbeatserverless.adapters.aws;

import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Request;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import java.time.Duration;

/**
 * A time limit on each attempt of an S3 request (the SDK's {@code apiCallAttemptTimeout}, set per request through
 * its interceptor chain), so that a destination that hangs or crawls costs one limit, not the socket timeout (60 s)
 * for every read, and cannot eat an invocation: a request without a body gets {@code base}; one that sends a body gets
 * {@code base} plus its length at {@code minBytesPerSecond}. A GET is left to the socket timeout: its body is read after
 * the call returns, at the caller's pace. A request timed out counts as retryable, and as possibly done
 * ({@code ReplicationErrors}).
 *
 * <p>A small request (a HEAD, a listing page, a tagging, retention or legal-hold read or write, a delete, an upload's creation
 * or abort, a body under 512 KB) is held to less, as S3's performance guidelines advise for latency ("Timeouts and Retries for
 * Latency-Sensitive Applications": for requests under 512 KB, whose median latency is tens of milliseconds, retry after 2 s,
 * then after 4 s more): {@value #SMALL_FIRST_ATTEMPT_MS} ms for its first attempt, doubling with each attempt
 * ({@code Retrier.attemptOnThisThread}) up to {@code base}. So a request a site holds costs its batch 2 s, not 20 (issue 31),
 * and a site slow for every request still gets attempts long enough. A listing page (at most 1,000 entries, answered as fast
 * as a small GET) counts as small: a key's versions are listed under a delete marker, and one held listing stalled a whole
 * batch 20 s in the chaos run. A completion (which S3 may take minutes over), a server-side copy and a large body keep
 * {@code base}.
 */
public final class RequestTimeouts implements ExecutionInterceptor {

    static final long SMALL_FIRST_ATTEMPT_MS = 2_000;
    static final long SMALL_BODY_BYTES = 512 * 1024;

    private final Duration base;
    private final long minBytesPerSecond;

    public RequestTimeouts(Duration base, long minBytesPerSecond) {
        this.base = base;
        this.minBytesPerSecond = minBytesPerSecond;
    }

    /** The limit of this thread's attempt of {@code request}; null for a GET (no limit beyond the socket timeout). */
    Duration limitOf(SdkRequest request) {
        return limitOf(request, io.backbeatserverless.core.retry.Retrier.attemptOnThisThread());
    }

    /** The limit of attempt {@code attempt} (1-based) of {@code request}; null for a GET. */
    Duration limitOf(SdkRequest request, int attempt) {
        if (request instanceof GetObjectRequest) {
            return null;
        }
        Long length = request instanceof PutObjectRequest put ? put.contentLength()
                : request instanceof UploadPartRequest part ? part.contentLength() : null;
        boolean small = length == null ? SMALL_WITHOUT_BODY.contains(request.getClass()) : length < SMALL_BODY_BYTES;
        Duration limit = small ? Duration.ofMillis(Math.min(base.toMillis(), SMALL_FIRST_ATTEMPT_MS << Math.min(20, Math.max(0, attempt - 1))))
                : base;
        return length == null ? limit : limit.plusMillis(length * 1000 / minBytesPerSecond);
    }

    /** Requests without a body whose work does not grow with an object's size (a listing page is bounded). */
    private static final java.util.Set<Class<?>> SMALL_WITHOUT_BODY = java.util.Set.of(
            software.amazon.awssdk.services.s3.model.HeadObjectRequest.class,
            software.amazon.awssdk.services.s3.model.HeadBucketRequest.class,
            software.amazon.awssdk.services.s3.model.ListObjectVersionsRequest.class,
            software.amazon.awssdk.services.s3.model.ListObjectsV2Request.class,
            software.amazon.awssdk.services.s3.model.ListPartsRequest.class,
            software.amazon.awssdk.services.s3.model.GetObjectTaggingRequest.class,
            software.amazon.awssdk.services.s3.model.PutObjectTaggingRequest.class,
            software.amazon.awssdk.services.s3.model.DeleteObjectTaggingRequest.class,
            software.amazon.awssdk.services.s3.model.GetObjectRetentionRequest.class,
            software.amazon.awssdk.services.s3.model.PutObjectRetentionRequest.class,
            software.amazon.awssdk.services.s3.model.GetObjectLegalHoldRequest.class,
            software.amazon.awssdk.services.s3.model.PutObjectLegalHoldRequest.class,
            software.amazon.awssdk.services.s3.model.DeleteObjectRequest.class,
            software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest.class,
            software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest.class);

    @Override
    public SdkRequest modifyRequest(Context.ModifyRequest context, ExecutionAttributes attributes) {
        Duration limit = limitOf(context.request());
        if (limit == null || !(context.request() instanceof S3Request s3)
                || s3.overrideConfiguration().flatMap(o -> o.apiCallAttemptTimeout()).isPresent()) {
            return context.request();
        }
        return s3.toBuilder().overrideConfiguration(o -> o.apiCallAttemptTimeout(limit)).build();
    }
}
