package io.backbeatserverless.adapters.cloudserver;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.metadata.CloudServerVersionIds;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SourceStatusWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

/**
 * Writes a site's status into a CloudServer source version's {@code replicationInfo}, as Backbeat's
 * status processor does: read the current metadata ({@code GET /_/backbeat/metadata}), set the site's
 * backend status and the overall status that follows ({@link io.backbeatserverless.core.status.StatusMerge}),
 * write it back with {@code x-scal-replication-content: METADATA} so the data is untouched. Reading
 * first keeps other sites' statuses and any change made since the entry was queued. A version that is
 * gone from the source is left alone; one stored before its bucket had rules (a backfill's) gets its rule's
 * replicationInfo, which the outcome carries.
 */
public final class CloudServerSourceStatusWriter implements SourceStatusWriter {

    private static final Logger LOG = LoggerFactory.getLogger(CloudServerSourceStatusWriter.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final CloudServerBackbeatRoutes routes;

    public CloudServerSourceStatusWriter(CloudServerBackbeatRoutes routes) {
        this.routes = routes;
    }

    @Override
    public void write(StatusEntry outcome, ReplicationStatus siteStatus) throws Exception {
        if (siteStatus != ReplicationStatus.COMPLETED && siteStatus != ReplicationStatus.FAILED) {
            return; // SKIPPED and PENDING are ours; CloudServer keeps Backbeat's words
        }
        String key = outcome.versionKey().objectKey();
        String version = CloudServerVersionIds.toExternal(outcome.versionKey().versionId());
        String current;
        try {
            current = routes.getMetadata(outcome.bucket(), key, version);
        } catch (AwsServiceException e) {
            if (e.statusCode() == 404) {
                LOG.info("{}/{} version {} is gone from the source: its {} status at {} is not written back",
                        outcome.bucket(), key, outcome.versionKey().versionId(), siteStatus, outcome.site());
                return;
            }
            throw e;
        }
        // A version stored before its bucket had rules has no replication status of its own: the outcome's (its rule's) is
        // taken, as Backbeat's crrExistingObjects would have written it.
        ObjectMetadata updated = ObjectMetadata.of((ObjectNode) MAPPER.readTree(current)).withSiteStatus(outcome.site(), siteStatus,
                outcome.metadata().replicationInfo().orElse(null));
        routes.putMetadata(outcome.bucket(), key, version, updated.toString(), true);
    }
}
