package io.backbeatserverless.core.ops;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * When a version FAILED for a transient cause is queued again on its own (issue 31; MinIO's MRF does the same): after
 * each delay in turn, counted from the failure, until one attempt completes or the delays run out; then it waits for an
 * operator, as a permanent failure does. The replicator's own retries (the {@code Retrier}, seconds apart under one
 * invocation's deadline) come first: this is for what outlasts them, a site down for an hour.
 *
 * @param delays the wait before each automatic retry; empty: never retried on its own
 */
public record AutoRetrySchedule(List<Duration> delays) {

    /** 1 min, 5 min, 30 min, 2 h, 12 h: about 15 h of outage covered, five retries per version. */
    public static final AutoRetrySchedule DEFAULT = ofSeconds(List.of(60L, 300L, 1800L, 7200L, 43200L));
    public static final AutoRetrySchedule NEVER = new AutoRetrySchedule(List.of());

    public AutoRetrySchedule {
        delays = List.copyOf(delays);
        if (delays.stream().anyMatch(d -> d.isNegative() || d.isZero())) {
            throw new IllegalArgumentException("automatic retry delays must be positive: " + delays);
        }
    }

    public static AutoRetrySchedule ofSeconds(List<Long> seconds) {
        return new AutoRetrySchedule(seconds.stream().map(Duration::ofSeconds).toList());
    }

    /** When a version that failed at {@code failedAt} after {@code retriesDone} automatic retries is queued again; null: never. */
    public Instant next(Instant failedAt, int retriesDone) {
        return retriesDone < delays.size() ? failedAt.plus(delays.get(retriesDone)) : null;
    }
}
