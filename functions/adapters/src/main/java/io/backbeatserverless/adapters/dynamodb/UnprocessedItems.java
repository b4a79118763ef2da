package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.core.retry.RetryPolicy;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * DynamoDB's batch calls may leave part of a request unprocessed (throttling); the documented answer is to send
 * that part again with exponential backoff. Here that is the project's one retry policy, bounded: a request
 * still unprocessed after it throws, so the caller's own retry (the event source's, the populator's) takes over.
 */
final class UnprocessedItems {

    private static final RetryPolicy RETRIES = new RetryPolicy(10, Duration.ofMillis(50), Duration.ofSeconds(2), Duration.ofSeconds(30));

    private UnprocessedItems() {
    }

    /** Sends {@code request}, then what each answer leaves unprocessed, until nothing is left. */
    static <T> void untilProcessed(Map<String, T> request, UnaryOperator<Map<String, T>> call) {
        RetryPolicy.Backoff backoff = RETRIES.backoff(Clock.systemUTC());
        Map<String, T> left = call.apply(request);
        while (left != null && !left.isEmpty()) {
            Duration wait = backoff.next();
            if (wait == null) {
                throw new IllegalStateException("DynamoDB left part of a batch unprocessed after " + backoff.failures() + " attempts");
            }
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while retrying a DynamoDB batch", e);
            }
            left = call.apply(left);
        }
    }
}
