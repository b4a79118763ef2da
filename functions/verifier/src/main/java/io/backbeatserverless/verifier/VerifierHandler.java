package io.backbeatserverless.verifier;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.core.verify.VerifyRequest;
import io.backbeatserverless.core.verify.VerifyRun;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The verifier function. EventBridge Scheduler invokes it every minute to walk unfinished runs (those the ops
 * API started) for as long as the invocation may last; a second, optional schedule starts runs of its own
 * ({@code {"action": "start", "buckets": [...], "repair": false}}; no buckets: every bucket with rules).
 */
public final class VerifierHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {

    /** Left of the invocation's time for saving the last step and returning. */
    private static final Duration MARGIN = Duration.ofSeconds(30);

    /** Its runtime, built again after a SnapStart restore (issue 33): its clients are the environment's own. */
    private final io.backbeatserverless.adapters.snapstart.SnapStartHooks<Verifier> runtime;
    private final Clock clock;

    public VerifierHandler() {
        this.runtime = io.backbeatserverless.adapters.snapstart.SnapStartHooks.register(
                () -> Verifier.create(BackbeatConfig.fromEnvironment(System.getenv()), Clock.systemUTC()), verifier -> { });
        this.clock = Clock.systemUTC();
    }

    public VerifierHandler(Verifier verifier, Clock clock) {
        this.runtime = io.backbeatserverless.adapters.snapstart.SnapStartHooks.fixed(verifier);
        this.clock = clock;
    }

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> input, Context context) {
        // Powertools' logging: the invocation's fields (request id, cold start, ...) on every JSON line.
        return context == null ? handle(input, null)
                : software.amazon.lambda.powertools.logging.PowertoolsLogging.withLogging(context, () -> handle(input, context));
    }

    private Map<String, Object> handle(Map<String, Object> input, Context context) {
        Map<String, Object> result = new LinkedHashMap<>();
        if (input != null && "start".equals(input.get("action"))) {
            result.put("started", start(input));
        }
        long remaining = context == null ? Duration.ofMinutes(1).toMillis() : context.getRemainingTimeInMillis();
        Duration budget = Duration.ofMillis(Math.max(0, remaining - MARGIN.toMillis()));
        result.put("steps", runtime.current().worker(context == null ? "verifier" : context.getAwsRequestId()).work(budget));
        return result;
    }

    private List<String> start(Map<String, Object> input) {
        List<String> buckets = new ArrayList<>();
        if (input.get("buckets") instanceof List<?> list) {
            list.forEach(b -> buckets.add(String.valueOf(b)));
        }
        if (buckets.isEmpty()) {
            buckets.add(null); // every bucket with rules
        }
        boolean repair = Boolean.TRUE.equals(input.get("repair"));
        boolean deep = Boolean.TRUE.equals(input.get("deep"));
        List<String> ids = new ArrayList<>();
        for (String bucket : buckets) {
            Instant now = clock.instant();
            VerifyRun run = VerifyRun.started(VerifyRun.newId(now), new VerifyRequest(bucket, List.of(), "", repair, null, deep,
                    VerifyRequest.DEFAULT_SAMPLE), now);
            runtime.current().runs().create(run);
            ids.add(run.id());
        }
        return ids;
    }
}
