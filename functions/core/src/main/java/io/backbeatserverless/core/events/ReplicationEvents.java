package io.backbeatserverless.core.events;

import java.util.List;

/** Where replication events go: EventBridge in AWS, the log locally. */
public interface ReplicationEvents {

    /** Sends them all, or throws (the batch is then retried: events are sent at least once). */
    void send(List<ReplicationEvent> events);

    ReplicationEvents NONE = events -> {
    };
}
