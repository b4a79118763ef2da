package io.backbeatserverless.status;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;

/**
 * The status processor function, triggered by its MSK event source mapping on
 * {@code backbeat-replication-status}: records every site's outcome.
 */
public final class StatusHandler implements RequestHandler<KafkaEvent, StatusRecorder.BatchResult> {

    private final StatusRecorder recorder;

    /** Lambda's constructor: configuration from the environment (BACKBEAT_CONFIG / BACKBEAT_CONFIG_JSON). */
    public StatusHandler() {
        this(StatusRecorder.fromEnvironment(System.getenv()));
    }

    public StatusHandler(StatusRecorder recorder) {
        this.recorder = recorder;
    }

    @Override
    public StatusRecorder.BatchResult handleRequest(KafkaEvent event, Context context) {
        // Powertools' logging: the invocation's fields (request id, cold start, ...) on every JSON line.
        return context == null ? recorder.record(event)
                : software.amazon.lambda.powertools.logging.PowertoolsLogging.withLogging(context, () -> recorder.record(event));
    }
}
