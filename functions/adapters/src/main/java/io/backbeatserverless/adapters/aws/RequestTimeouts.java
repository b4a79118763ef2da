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
 */
public final class RequestTimeouts implements ExecutionInterceptor {

    private final Duration base;
    private final long minBytesPerSecond;

    public RequestTimeouts(Duration base, long minBytesPerSecond) {
        this.base = base;
        this.minBytesPerSecond = minBytesPerSecond;
    }

    /** The limit of one attempt of {@code request}; null for a GET (no limit beyond the socket timeout). */
    Duration limitOf(SdkRequest request) {
        if (request instanceof GetObjectRequest) {
            return null;
        }
        Long length = request instanceof PutObjectRequest put ? put.contentLength()
                : request instanceof UploadPartRequest part ? part.contentLength() : null;
        return length == null ? base : base.plusMillis(length * 1000 / minBytesPerSecond);
    }

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
