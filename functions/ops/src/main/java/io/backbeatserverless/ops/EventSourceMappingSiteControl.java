package io.backbeatserverless.ops;

import software.amazon.awssdk.services.lambda.LambdaClient;

import java.util.Map;

/**
 * {@link SiteControl} in AWS: pausing a site disables its replicator's MSK event source mapping
 * ({@code UpdateEventSourceMapping Enabled=false}), resuming enables it; the consumer group keeps its
 * committed offsets, so replication continues where it stopped. Mapping UUIDs come from
 * {@code ops.eventSourceMappings}, which the CDK stack fills in.
 */
public final class EventSourceMappingSiteControl implements SiteControl {

    private final LambdaClient lambda;
    private final Map<String, String> mappingBySite;

    public EventSourceMappingSiteControl(LambdaClient lambda, Map<String, String> mappingBySite) {
        this.lambda = lambda;
        this.mappingBySite = Map.copyOf(mappingBySite);
    }

    @Override
    public void setEnabled(String site, boolean enabled) {
        String uuid = mappingBySite.get(site);
        if (uuid == null) {
            throw new IllegalStateException("no event source mapping configured for site '" + site + "' (ops.eventSourceMappings)");
        }
        lambda.updateEventSourceMapping(r -> r.uuid(uuid).enabled(enabled));
    }
}
