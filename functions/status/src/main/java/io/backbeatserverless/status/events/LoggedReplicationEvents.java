package io.backbeatserverless.status.events;

import io.backbeatserverless.core.events.ReplicationEvent;
import io.backbeatserverless.core.events.ReplicationEvents;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Replication events where there is no EventBridge (the local stack): one log line each, {@code replication event }
 * then the S3-shaped record as JSON, from this class's logger, so that an operator (or a test) can read them.
 */
public final class LoggedReplicationEvents implements ReplicationEvents {

    public static final String PREFIX = "replication event ";
    private static final Logger LOG = LoggerFactory.getLogger(LoggedReplicationEvents.class);

    @Override
    public void send(List<ReplicationEvent> events) {
        for (ReplicationEvent event : events) {
            LOG.info("{}{}", PREFIX, S3ReplicationEventRecord.of(event));
        }
    }
}
