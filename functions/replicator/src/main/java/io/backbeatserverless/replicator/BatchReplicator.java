package io.backbeatserverless.replicator;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.adapters.kafka.KafkaEventRecords;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.MalformedEntryException;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Replicates one Kafka batch to this function's site: each partition's records in offset order (all
 * versions of an object share a partition), every outcome published to the status topic, and the
 * call returns only once Kafka acknowledged them all. Versions this site is not a destination of
 * are skipped; an entry that cannot be decoded is logged with its position and skipped, so one bad
 * record never blocks its partition.
 */
public final class BatchReplicator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchReplicator.class);

    private final String site;
    private final SiteReplicator siteReplicator;
    private final EntryPublisher statusPublisher;
    private final String statusTopic;
    private final Clock clock;
    private final AutoCloseable resources;

    public BatchReplicator(String site, SiteReplicator siteReplicator, EntryPublisher statusPublisher, String statusTopic,
                           Clock clock, AutoCloseable resources) {
        this.site = site;
        this.siteReplicator = siteReplicator;
        this.statusPublisher = statusPublisher;
        this.statusTopic = statusTopic;
        this.clock = clock;
        this.resources = resources;
    }

    /** Lambda wiring: configuration from BACKBEAT_CONFIG / BACKBEAT_CONFIG_JSON, the site from BACKBEAT_SITE. */
    public static BatchReplicator fromEnvironment(Map<String, String> env) {
        String site = env.get("BACKBEAT_SITE");
        if (site == null || site.isBlank()) {
            throw new IllegalStateException("BACKBEAT_SITE is not set: which site does this replicator serve?");
        }
        return create(BackbeatConfig.fromEnvironment(env), site, Clock.systemUTC());
    }

    public static BatchReplicator create(BackbeatConfig config, String siteName, Clock clock) {
        SiteConfig site = config.requireSite(siteName);
        var source = AwsClients.s3(config.source().endpoint(), 64);
        var destination = AwsClients.s3(site.endpoint(), 64);
        EntryPublisher publisher = EntryPublisher.connect(config.kafka().bootstrapServers(), "backbeat-replicator-" + siteName);
        return new BatchReplicator(siteName, new S3SiteReplicator(site, source, destination), publisher,
                config.kafka().statusTopic(), clock, () -> {
            publisher.close();
            source.close();
            destination.close();
        });
    }

    public BatchResult replicate(KafkaEvent event) {
        List<ProducerRecord<String, byte[]>> outcomes = new ArrayList<>();
        int skipped = 0;
        int malformed = 0;
        for (List<KafkaEventRecords.Record> partition : KafkaEventRecords.byPartition(event)) {
            for (KafkaEventRecords.Record record : partition) {
                ReplicationEntry entry;
                try {
                    entry = EntryCodec.decodeReplicationEntry(record.value());
                } catch (MalformedEntryException e) {
                    malformed++;
                    LOG.error("site {}: malformed entry at {} skipped: {}", site, record.position(), e.getMessage());
                    continue;
                }
                if (entry.metadata().replicationInfo().flatMap(i -> i.backend(site)).isEmpty()) {
                    skipped++;
                    continue;
                }
                long started = clock.millis();
                ReplicationOutcome outcome = siteReplicator.replicate(entry);
                if (outcome.reason() != null) {
                    LOG.warn("site {}: {}/{} version {} {}: {}", site, entry.bucket(), entry.objectKey(),
                            entry.versionId(), outcome.status(), outcome.reason());
                }
                StatusEntry status = statusEntry(entry, outcome, clock.millis() - started);
                outcomes.add(new ProducerRecord<>(statusTopic, status.messageKey(), EntryCodec.encode(status)));
            }
        }
        statusPublisher.publishAll(outcomes);
        return new BatchResult(outcomes.size(), skipped, malformed);
    }

    private StatusEntry statusEntry(ReplicationEntry entry, ReplicationOutcome outcome, long durationMs) {
        ObjectMetadata updated = entry.metadata().withSiteStatus(site, outcome.status());
        return new StatusEntry(entry.bucket(), entry.versionKey(), site, outcome.status(), outcome.reason(), updated,
                outcome.attempts(), outcome.bytes(), durationMs, clock.instant().toString());
    }

    @Override
    public void close() throws Exception {
        siteReplicator.close();
        resources.close();
    }

    /** What one invocation did: outcomes published, entries for other sites, undecodable entries. */
    public record BatchResult(int replicated, int skipped, int malformed) {
    }
}
