package io.backbeatserverless.populator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.adapters.aws.BucketRules;
import io.backbeatserverless.core.metadata.PendingVersions;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationRule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The AWS-native feed: S3 Event Notifications delivered to an SQS queue. {@code ObjectCreated:*} events
 * become new versions, {@code ObjectRemoved:DeleteMarkerCreated} delete markers and {@code ObjectTagging:Put} /
 * {@code ObjectTagging:Delete} changes of a version's tags (metadata-only entries: the replicator re-tags the replica,
 * as S3 Replication replicates tag changes), matched against the bucket's replication rules here (S3 does not do it
 * for us). Within a batch, the versions of one key
 * are ordered by their S3 {@code sequencer}. Messages are deleted only in {@link #acknowledge}, after
 * every entry of the batch is in Kafka: a populator killed in between leaves them in the queue, which
 * delivers them again after the visibility timeout (duplicates, never gaps). A message that is not an
 * S3 event is logged and left to the queue's redrive policy (its dead-letter queue).
 */
public final class S3EventNotificationFeed implements ChangeFeed {

    private static final Logger LOG = LoggerFactory.getLogger(S3EventNotificationFeed.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final SqsClient sqs;
    private final String queueUrl;
    private final S3Client source;
    private final BucketRules bucketRules;
    private final int maxMessages;
    private final java.util.concurrent.atomic.AtomicLong held = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong undecided = new java.util.concurrent.atomic.AtomicLong();

    public S3EventNotificationFeed(SqsClient sqs, String queueUrl, S3Client source, BucketRules bucketRules, int maxMessages) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.source = source;
        this.bucketRules = bucketRules;
        this.maxMessages = Math.max(10, maxMessages);
    }

    @Override
    public String name() {
        return "s3-events-sqs";
    }

    /** Messages left in the queue because their bucket's replication configuration could not be used. */
    public long held() {
        return held.get();
    }

    /** Versions queued with their rule still to choose, their tags unreadable here. */
    public long undecided() {
        return undecided.get();
    }

    private record Event(String bucket, String key, String versionId, long size, String eTag, String sequencer, Instant time,
                         boolean deleteMarker, boolean tagChange) {
    }

    @Override
    public Batch next() {
        List<Message> messages = new ArrayList<>();
        while (messages.size() < maxMessages) {
            List<Message> received = sqs.receiveMessage(r -> r.queueUrl(queueUrl).maxNumberOfMessages(10)
                    .waitTimeSeconds(messages.isEmpty() ? 1 : 0)).messages();
            messages.addAll(received);
            // A short answer means the queue is drained for now: publish what we have rather than keep a
            // growing batch waiting (under steady load, every receive would bring a few more).
            if (received.size() < 10) {
                break;
            }
        }
        if (messages.isEmpty()) {
            return Batch.empty();
        }
        List<Event> events = new ArrayList<>();
        List<String> handles = new ArrayList<>();
        // Each bucket's rules are read once per batch: fresh for every batch, not one read per event.
        Map<String, BucketRules.Lookup> rulesByBucket = new HashMap<>();
        for (Message message : messages) {
            List<Event> messageEvents;
            try {
                messageEvents = eventsOf(message.body());
            } catch (IOException | RuntimeException e) {
                LOG.error("s3-events-sqs feed: message {} is not an S3 event notification, left to the queue's redrive policy: {}",
                        message.messageId(), e.getMessage());
                continue;
            }
            // A bucket whose configuration cannot be used (BucketRules logs why): its events stay in the queue and come
            // back after the visibility timeout, so fixing the configuration replicates them (or, past the queue's
            // maxReceiveCount, they wait in its dead-letter queue to be redriven). They are never deleted unread.
            if (messageEvents.stream().anyMatch(e -> rulesByBucket.computeIfAbsent(e.bucket(), bucketRules::lookup).invalid())) {
                held.incrementAndGet();
                continue;
            }
            events.addAll(messageEvents);
            handles.add(message.receiptHandle());
        }
        // S3's sequencer orders the events of one key: longer is later, then lexicographic.
        events.sort(Comparator.comparing(Event::bucket).thenComparing(Event::key)
                .thenComparing(e -> e.sequencer() == null ? "" : e.sequencer(), Comparator.comparingInt(String::length).thenComparing(x -> x)));
        List<SourceVersion> versions = new ArrayList<>();
        for (Event e : events) {
            ReplicationConfiguration rules = rulesByBucket.computeIfAbsent(e.bucket(), bucketRules::lookup).rules();
            if (rules == null) {
                continue; // the bucket has no replication configuration: nothing to replicate
            }
            Map<String, String> tags;
            try {
                tags = e.deleteMarker() || !rules.needsTagsFor(e.key()) ? Map.of() : tagsOf(e);
            } catch (RuntimeException unreadable) {
                // Issue 28: one version's tags unreadable here (gone since, or refused to this role) must not hold back the
                // batch, nor vanish: it is queued for every site a rule could send it to, with those rules, and each
                // site's replicator, which reads the tags anyway, chooses (SKIPPED where none sends it there; FAILED,
                // with the reason and retryable, if it cannot read them either; SKIPPED if the version is gone).
                var candidates = rules.candidatesFor(e.key());
                if (candidates.isPresent()) {
                    undecided.incrementAndGet();
                    LOG.warn("s3-events-sqs feed: tags of {}/{} version {} unreadable ({}); queued for the replicators to choose its rule"
                            + " among {}", e.bucket(), e.key(), e.versionId(), unreadable.toString(),
                            candidates.get().rules().stream().map(ReplicationRule::id).toList());
                    versions.add(new SourceVersion(e.bucket(), PendingVersions.undecidedOf(e.key(), e.versionId(), e.size(), e.eTag(),
                            e.time(), e.tagChange(), candidates.get()), -1, e.time() == null ? null : e.time().toString()));
                }
                continue;
            }
            ReplicationRule rule = rules.ruleFor(e.key(), tags).orElse(null);
            if (rule == null || (e.deleteMarker() && !rule.deleteMarkerReplication())) {
                continue;
            }
            var metadata = e.tagChange()
                    ? PendingVersions.metadataChangeOf(e.key(), e.versionId(), e.size(), e.eTag(), rules, rule, tags)
                    : PendingVersions.metadataOf(e.key(), e.versionId(), e.size(), e.eTag(), e.time(), e.deleteMarker(), rules, rule, tags);
            versions.add(new SourceVersion(e.bucket(), metadata, -1, e.time() == null ? null : e.time().toString()));
        }
        return new Batch(versions, handles);
    }

    private static List<Event> eventsOf(String body) throws IOException {
        JsonNode root = MAPPER.readTree(body);
        if (root.has("Event") && "s3:TestEvent".equals(root.path("Event").asText())) {
            return List.of();
        }
        if (!root.has("Records")) {
            throw new IOException("no Records");
        }
        List<Event> events = new ArrayList<>();
        for (JsonNode record : root.path("Records")) {
            String name = record.path("eventName").asText("");
            boolean created = name.startsWith("ObjectCreated:");
            boolean deleteMarker = name.equals("ObjectRemoved:DeleteMarkerCreated");
            boolean tagChange = name.startsWith("ObjectTagging:");
            if (!created && !deleteMarker && !tagChange) {
                continue;
            }
            JsonNode object = record.path("s3").path("object");
            String versionId = object.path("versionId").asText(null);
            if (versionId == null) {
                continue; // an unversioned bucket: nothing S3 replication would replicate
            }
            events.add(new Event(record.path("s3").path("bucket").path("name").asText(),
                    URLDecoder.decode(object.path("key").asText(), StandardCharsets.UTF_8), versionId,
                    object.path("size").asLong(0), object.path("eTag").asText(null), object.path("sequencer").asText(null),
                    record.hasNonNull("eventTime") ? Instant.parse(record.path("eventTime").asText()) : null, deleteMarker, tagChange));
        }
        return events;
    }

    private Map<String, String> tagsOf(Event e) {
        Map<String, String> tags = new HashMap<>();
        source.getObjectTagging(r -> r.bucket(e.bucket()).key(e.key()).versionId(e.versionId())).tagSet()
                .forEach(t -> tags.put(t.key(), t.value()));
        return tags;
    }

    @Override
    public void acknowledge(Batch batch) {
        @SuppressWarnings("unchecked")
        List<String> handles = (List<String>) batch.position();
        for (int from = 0; from < handles.size(); from += 10) {
            List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
            for (int i = from; i < Math.min(handles.size(), from + 10); i++) {
                entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i)).receiptHandle(handles.get(i)).build());
            }
            var result = sqs.deleteMessageBatch(r -> r.queueUrl(queueUrl).entries(entries));
            if (!result.failed().isEmpty()) {
                // Undeleted messages come back: their entries are published again (a duplicate, not a loss).
                LOG.warn("s3-events-sqs feed: {} messages not deleted: {}", result.failed().size(), result.failed().getFirst().message());
            }
        }
    }

    @Override
    public void close() {
        sqs.close();
    }
}
