package io.backbeatserverless.status;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;

/**
 * The status processor function, triggered by its MSK event source mapping on
 * {@code backbeat-replication-status}: records every site's outcome.
 */
public final class StatusHandler implements RequestHandler<KafkaEvent, StatusRecorder.BatchResult> {

    /** Its runtime, built again after a SnapStart restore (issue 33): its clients and Kafka producer are the environment's own. */
    private final io.backbeatserverless.adapters.snapstart.SnapStartHooks<StatusRecorder> runtime;

    /** Lambda's constructor: configuration from the environment (BACKBEAT_CONFIG / BACKBEAT_CONFIG_JSON). */
    public StatusHandler() {
        this.runtime = io.backbeatserverless.adapters.snapstart.SnapStartHooks.register(
                () -> StatusRecorder.fromEnvironment(System.getenv()), recorder -> { });
    }

    public StatusHandler(StatusRecorder recorder) {
        this.runtime = io.backbeatserverless.adapters.snapstart.SnapStartHooks.fixed(recorder);
    }

    @Override
    public StatusRecorder.BatchResult handleRequest(KafkaEvent event, Context context) {
        // Powertools' logging: the invocation's fields (request id, cold start, ...) on every JSON line.
        StatusRecorder recorder = runtime.current();
        return context == null ? recorder.record(event)
                : software.amazon.lambda.powertools.logging.PowertoolsLogging.withLogging(context, () -> recorder.record(event));
    }
}
