package io.backbeatserverless.replicator;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartCopyRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import java.time.Duration;

/**
 * A site's bandwidth limit ({@code sites[].maxBytesPerSecond}, issue 31): the bytes each write to the site carries wait their
 * turn in a token bucket (Resilience4j's rate limiter, refilled every 100 ms) before the request starts, so that the
 * replicators of a site together send it at most that many bytes per second, on average over a second or more.
 *
 * <p>How the limit holds across instances: a replicator instance takes an equal share, {@code maxBytesPerSecond / instances},
 * where {@code instances} is the most that run at once. In Lambda that is the replication topic's partitions (an event
 * source mapping runs at most one invocation per partition at a time, each in an execution environment of its own, which
 * this JVM-wide bucket stands for); in the local stack one event source runner delivers every partition to one replicator,
 * so it takes the whole limit. When fewer partitions have work, less than the limit is used: it is a ceiling, never exceeded.
 *
 * <p>What is counted: the body of a {@code PutObject} and an {@code UploadPart}, and the range of an {@code UploadPartCopy}
 * and the size of a {@code CopyObject} (given with {@link #COPIED_BYTES}), though a server-side copy's bytes go from the
 * source to the site without passing through the replicator: the site's link carries them all the same. A retried request is
 * counted again. The wait happens before the request is sent, outside its attempt's time limit, so a slow turn never times a
 * request out; a request's bytes then go at the link's speed. Requests wait in the order they asked, a large body taken in
 * slices of at most a tenth of a second's worth, so a small object waits at most for the slices already granted, not for a
 * whole large object: it is not starved behind a backfill.
 */
final class BandwidthLimit implements ExecutionInterceptor {

    /** The bytes a {@code CopyObject} copies, which its request does not say. */
    static final ExecutionAttribute<Long> COPIED_BYTES = new ExecutionAttribute<>("BackbeatCopiedBytes");

    private static final Duration REFILL = Duration.ofMillis(100);
    /** Longer than any invocation: a write waits its turn rather than fail for want of bandwidth. */
    private static final Duration MOST_WAIT = Duration.ofMinutes(15);

    private final RateLimiter limiter;
    private final int slice;
    private final long bytesPerSecond;

    /**
     * @param siteBytesPerSecond the site's limit, shared by {@code instances} replicator instances
     */
    BandwidthLimit(String site, long siteBytesPerSecond, int instances) {
        this.bytesPerSecond = Math.max(1, siteBytesPerSecond / Math.max(1, instances));
        this.slice = (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytesPerSecond * REFILL.toMillis() / 1000));
        this.limiter = RateLimiter.of("bandwidth-" + site, RateLimiterConfig.custom().limitRefreshPeriod(REFILL).limitForPeriod(slice)
                .timeoutDuration(MOST_WAIT).build());
    }

    /** This instance's share of the site's limit, in bytes per second. */
    long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Waits until {@code bytes} may be sent to the site. */
    void acquire(long bytes) {
        for (long left = bytes; left > 0; left -= slice) {
            if (!limiter.acquirePermission((int) Math.min(left, slice))) {
                throw SdkClientException.create("no bandwidth to send " + bytes + " bytes within " + MOST_WAIT
                        + " (the site's maxBytesPerSecond share is " + bytesPerSecond + ")");
            }
        }
    }

    /** Before a write starts (outside its attempts' time limits): its turn for the bytes it carries. */
    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        long bytes = bytesOf(context.request(), attributes);
        if (bytes > 0) {
            acquire(bytes);
        }
    }

    static long bytesOf(SdkRequest request, ExecutionAttributes attributes) {
        if (request instanceof PutObjectRequest put && put.contentLength() != null) {
            return put.contentLength();
        }
        if (request instanceof UploadPartRequest part && part.contentLength() != null) {
            return part.contentLength();
        }
        if (request instanceof UploadPartCopyRequest copy && copy.copySourceRange() != null) {
            // bytes=first-last
            String[] range = copy.copySourceRange().substring(copy.copySourceRange().indexOf('=') + 1).split("-");
            return Long.parseLong(range[1].trim()) - Long.parseLong(range[0].trim()) + 1;
        }
        Long copied = attributes.getAttribute(COPIED_BYTES);
        return copied == null ? 0 : copied;
    }
}
