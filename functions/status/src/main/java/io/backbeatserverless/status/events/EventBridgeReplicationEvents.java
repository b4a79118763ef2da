package io.backbeatserverless.status.events;

import io.backbeatserverless.core.events.ReplicationEvent;
import io.backbeatserverless.core.events.ReplicationEvents;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResponse;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResultEntry;

import java.util.ArrayList;
import java.util.List;

/**
 * Replication events onto an EventBridge bus ({@code PutEvents}, ten at a time, its limit): source
 * {@value S3ReplicationEventRecord#SOURCE}, detail type the event's name, detail the S3-shaped record. An entry the
 * bus refuses throws, with its code and message, so the status batch is retried and nothing is dropped.
 */
public final class EventBridgeReplicationEvents implements ReplicationEvents {

    private static final int MAX_ENTRIES_PER_CALL = 10;

    private final EventBridgeClient eventBridge;
    private final String busName;

    public EventBridgeReplicationEvents(EventBridgeClient eventBridge, String busName) {
        this.eventBridge = eventBridge;
        this.busName = busName;
    }

    @Override
    public void send(List<ReplicationEvent> events) {
        for (int from = 0; from < events.size(); from += MAX_ENTRIES_PER_CALL) {
            List<PutEventsRequestEntry> entries = new ArrayList<>();
            for (ReplicationEvent event : events.subList(from, Math.min(events.size(), from + MAX_ENTRIES_PER_CALL))) {
                entries.add(PutEventsRequestEntry.builder().eventBusName(busName).source(S3ReplicationEventRecord.SOURCE)
                        .detailType(event.name().name()).time(event.eventTime())
                        .resources("arn:aws:s3:::" + event.bucket())
                        .detail(S3ReplicationEventRecord.of(event).toString()).build());
            }
            PutEventsResponse response = eventBridge.putEvents(r -> r.entries(entries));
            if (response.failedEntryCount() != null && response.failedEntryCount() > 0) {
                PutEventsResultEntry first = response.entries().stream().filter(e -> e.errorCode() != null).findFirst().orElse(null);
                throw new IllegalStateException(response.failedEntryCount() + " of " + entries.size() + " replication events refused by"
                        + " EventBridge bus " + busName + (first == null ? "" : ": " + first.errorCode() + " " + first.errorMessage()));
            }
        }
    }
}
