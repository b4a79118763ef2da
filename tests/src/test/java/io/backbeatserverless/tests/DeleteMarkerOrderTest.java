package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.kafka.EntryPublisher;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.PendingVersions;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.DeleteMarkerEntry;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A delete marker that reaches an S3 site late (an S3 event delivered out of order, a replayed entry) never
 * hides a newer replica, and one replayed over the delete marker it already made adds no second one. Before,
 * delete markers skipped the "a newer version is already there" check that versions have, and every replay
 * deleted again.
 */
class DeleteMarkerOrderTest extends StackScenario {

    @Test
    void aLateDeleteMarkerIsSkippedAndAReplayedOneAddsNoSecondMarker() throws Exception {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        stack.source.putObject(r -> r.bucket(bucket).key("revived"), RequestBody.fromString("v1"));
        String marker = stack.source.deleteObject(r -> r.bucket(bucket).key("revived")).versionId();
        String newest = stack.source.putObject(r -> r.bucket(bucket).key("revived"), RequestBody.fromString("v2")).versionId();
        stack.source.putObject(r -> r.bucket(bucket).key("deleted"), RequestBody.fromString("v1"));
        String deleted = stack.source.deleteObject(r -> r.bucket(bucket).key("deleted")).versionId();
        stack.awaitReplica(bucket + "/revived", newest);
        stack.awaitSiteStatus(bucket, "deleted", deleted, SharedStack.AWS_LOCATION, ReplicationStatus.COMPLETED);

        // Both delete markers queued again, as a late or repeated event would.
        replay(bucket, "revived", marker);
        replay(bucket, "deleted", deleted);

        assertThat(stack.headReplica(bucket + "/revived").orElseThrow().metadata().get("scal-version-id"))
                .as("the newer replica is still the current version").isEqualTo(newest);
        assertThat(markersAt(bucket + "/revived")).as("no delete marker over the newer replica").hasSize(1);
        assertThat(markersAt(bucket + "/deleted")).as("the replay added no second delete marker").hasSize(1);
        assertThat(VerifyTest.verify(bucket, false).path("Clean").asBoolean()).isTrue();
    }

    /** Publishes the delete marker's entry and waits until the site's replicator has consumed past it. */
    private static void replay(String bucket, String key, String markerVersion) throws Exception {
        Instant lastModified = stack.source.listObjectVersions(r -> r.bucket(bucket).prefix(key)).deleteMarkers().stream()
                .filter(d -> d.versionId().equals(markerVersion)).findFirst().orElseThrow().lastModified();
        ReplicationConfiguration rules = ReplicationConfigurationParser.parse("""
                {"Role":"%s","Rules":[{"Status":"Enabled","Prefix":"","Destination":{"Bucket":"arn:aws:s3:::%s","StorageClass":"%s"}}]}"""
                .formatted(StackClients.ROLE, bucket, SharedStack.AWS_LOCATION));
        ReplicationEntry entry = new ReplicationEntry(ReplicationEntry.TYPE_PUT, bucket, new VersionKey(key, markerVersion),
                PendingVersions.metadataOf(key, markerVersion, 0, null, lastModified, true, rules, rules.rules().getFirst(), Map.of()), null);
        RecordMetadata sent;
        try (EntryPublisher publisher = EntryPublisher.connect(stack.config.kafka().bootstrapServers(), "delete-marker-order-test")) {
            sent = publisher.publishAll(List.of(new ProducerRecord<>(stack.config.kafka().replicationTopic(), entry.messageKey(),
                    EntryCodec.encode(entry)))).getFirst();
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.config.kafka().bootstrapServers()))) {
            TopicPartition partition = new TopicPartition(sent.topic(), sent.partition());
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
                var committed = admin.listConsumerGroupOffsets(stack.config.requireSite(SharedStack.AWS_LOCATION).consumerGroup())
                        .partitionsToOffsetAndMetadata().get().get(partition);
                return committed != null && committed.offset() > sent.offset();
            });
        }
    }

    private static List<DeleteMarkerEntry> markersAt(String destinationKey) {
        return stack.destination.listObjectVersions(r -> r.bucket("dest-bucket").prefix(destinationKey)).deleteMarkers().stream()
                .filter(d -> d.key().equals(destinationKey)).toList();
    }
}
