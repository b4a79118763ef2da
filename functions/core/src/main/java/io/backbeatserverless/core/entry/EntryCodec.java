package io.backbeatserverless.core.entry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.backfill.BackfillPage;
import io.backbeatserverless.core.backfill.PageOutcome;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place that reads and writes Kafka entries, in Backbeat's wire format:
 * {@code {"type","bucket","key":"<object>\u0000<versionId>","value":"<metadata JSON string>","overheadFields":{..}}}
 * for replication entries, and the same plus {@code site}, {@code status} and outcome fields for
 * status entries. Anything unreadable raises {@link MalformedEntryException} naming the problem.
 */
public final class EntryCodec {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String TYPE_PAGE = "page";
    private static final String TYPE_PAGE_OUTCOME = "page-outcome";

    private EntryCodec() {
    }

    public static byte[] encode(ReplicationEntry entry) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("type", entry.type());
        node.put("bucket", entry.bucket());
        node.put("key", entry.versionKey().encoded());
        node.put("value", entry.metadata().toString());
        ReplicationEntry.OverheadFields o = entry.overheadFields();
        ObjectNode overhead = node.putObject("overheadFields");
        putIfPresent(overhead, "commitTimestamp", o.commitTimestamp());
        putIfPresent(overhead, "opTimestamp", o.opTimestamp());
        putIfPresent(overhead, "versionId", o.versionId());
        if (entry.forceCopy()) {
            node.put("forceCopy", true);
        }
        if (entry.deferred()) {
            node.put("deferred", true);
        }
        if (entry.autoRetries() > 0) {
            node.put("autoRetries", entry.autoRetries());
        }
        return toBytes(node);
    }

    public static ReplicationEntry decodeReplicationEntry(byte[] bytes) {
        return decodeReplicationEntry(parseObject(bytes, "replication entry"));
    }

    /** A record of the replication topic: a {@link ReplicationEntry}, or a backfill job's {@link BackfillPage}. */
    public static Object decodeReplicationTopicRecord(byte[] bytes) {
        ObjectNode node = parseObject(bytes, "replication entry");
        return TYPE_PAGE.equals(textOrNull(node, "type")) ? decodePage(node) : decodeReplicationEntry(node);
    }

    private static ReplicationEntry decodeReplicationEntry(ObjectNode node) {
        String type = requiredText(node, "type", "replication entry");
        if (!ReplicationEntry.TYPE_PUT.equals(type) && !ReplicationEntry.TYPE_DELETE.equals(type)) {
            throw new MalformedEntryException("replication entry has unknown type '" + type + "' (expected put or del)");
        }
        String bucket = requiredText(node, "bucket", "replication entry");
        VersionKey versionKey = VersionKey.parse(requiredText(node, "key", "replication entry"));
        ObjectMetadata metadata = metadataValue(node, bucket, versionKey);
        JsonNode o = node.path("overheadFields");
        var overhead = new ReplicationEntry.OverheadFields(textOrNull(o, "commitTimestamp"),
                textOrNull(o, "opTimestamp"), textOrNull(o, "versionId"));
        return new ReplicationEntry(type, bucket, versionKey, metadata, overhead, node.path("forceCopy").asBoolean(false),
                node.path("deferred").asBoolean(false), Math.max(0, node.path("autoRetries").asInt(0)));
    }

    public static byte[] encode(StatusEntry entry) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("bucket", entry.bucket());
        node.put("key", entry.versionKey().encoded());
        node.put("value", entry.metadata().toString());
        node.put("site", entry.site());
        node.put("status", entry.status().name());
        putIfPresent(node, "reason", entry.reason());
        node.put("attempts", entry.attempts());
        node.put("bytes", entry.bytes());
        node.put("durationMs", entry.durationMs());
        putIfPresent(node, "timestamp", entry.timestamp());
        if (entry.retryable()) {
            node.put("retryable", true);
        }
        if (entry.autoRetries() > 0) {
            node.put("autoRetries", entry.autoRetries());
        }
        return toBytes(node);
    }

    public static StatusEntry decodeStatusEntry(byte[] bytes) {
        ObjectNode node = parseObject(bytes, "status entry");
        String bucket = requiredText(node, "bucket", "status entry");
        VersionKey versionKey = VersionKey.parse(requiredText(node, "key", "status entry"));
        String site = requiredText(node, "site", "status entry");
        ReplicationStatus status;
        try {
            status = ReplicationStatus.parse(requiredText(node, "status", "status entry"));
        } catch (IllegalArgumentException e) {
            throw new MalformedEntryException("status entry for '" + bucket + "/" + versionKey.objectKey() + "': " + e.getMessage(), e);
        }
        return new StatusEntry(bucket, versionKey, site, status, textOrNull(node, "reason"),
                metadataValue(node, bucket, versionKey), node.path("attempts").asInt(0),
                node.path("bytes").asLong(0), node.path("durationMs").asLong(0), textOrNull(node, "timestamp"),
                node.path("retryable").asBoolean(false), Math.max(0, node.path("autoRetries").asInt(0)));
    }

    public static byte[] encode(MalformedRecord record) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("type", "malformed");
        node.put("site", record.site());
        node.put("position", record.position());
        node.put("reason", record.reason());
        node.put("raw", record.raw());
        return toBytes(node);
    }

    /**
     * A record of the status topic: a {@link StatusEntry}, a {@link MalformedRecord} a replicator passed on, or a site's
     * {@link PageOutcome} for a backfill page.
     */
    public static Object decodeStatusTopicRecord(byte[] bytes) {
        ObjectNode node = parseObject(bytes, "status entry");
        if (TYPE_PAGE_OUTCOME.equals(textOrNull(node, "type"))) {
            return decodePageOutcome(node);
        }
        if ("malformed".equals(textOrNull(node, "type"))) {
            return new MalformedRecord(requiredText(node, "site", "malformed record"), textOrNull(node, "position"),
                    textOrNull(node, "reason"), textOrNull(node, "raw"));
        }
        return decodeStatusEntry(bytes);
    }

    /** Backfill pages (issue 29): a page of versions in one entry, short field names (a page is up to a thousand). */
    public static byte[] encode(BackfillPage page) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("type", TYPE_PAGE);
        node.put("bucket", page.bucket());
        node.put("job", page.jobId());
        node.put("page", page.number());
        node.put("part", page.part());
        putIfPresent(node, "prefix", page.prefix());
        putIfPresent(node, "afterKey", page.afterKey());
        putIfPresent(node, "throughKey", page.throughKey());
        page.sites().forEach(node.putArray("sites")::add);
        node.put("rules", page.rules());
        putIfPresent(node, "listedAt", page.listedAt());
        ArrayNode versions = node.putArray("versions");
        for (BackfillPage.PageVersion v : page.versions()) {
            ObjectNode o = versions.addObject();
            o.put("k", v.key());
            o.put("v", v.versionId());
            o.put("s", v.size());
            putIfPresent(o, "e", v.eTag());
            putIfPresent(o, "m", v.lastModified());
            if (v.deleteMarker()) {
                o.put("d", true);
            }
            o.put("r", v.rule());
            if (!v.tags().isEmpty()) {
                ObjectNode tags = o.putObject("t");
                v.tags().forEach(tags::put);
            }
        }
        return toBytes(node);
    }

    private static BackfillPage decodePage(ObjectNode node) {
        String what = "backfill page";
        String bucket = requiredText(node, "bucket", what);
        String job = requiredText(node, "job", what);
        String rules = requiredText(node, "rules", what);
        List<BackfillPage.PageVersion> versions = new ArrayList<>();
        for (JsonNode o : node.path("versions")) {
            String key = textOrNull(o, "k");
            String versionId = textOrNull(o, "v");
            if (key == null || versionId == null) {
                throw new MalformedEntryException(what + " " + job + "/" + node.path("page").asLong() + " of '" + bucket
                        + "' has a version without its key (k) or version id (v)");
            }
            Map<String, String> tags = new LinkedHashMap<>();
            o.path("t").properties().forEach(t -> tags.put(t.getKey(), t.getValue().asText()));
            versions.add(new BackfillPage.PageVersion(key, versionId, o.path("s").asLong(0), textOrNull(o, "e"), textOrNull(o, "m"),
                    o.path("d").asBoolean(false), o.path("r").asInt(0), tags));
        }
        List<String> sites = new ArrayList<>();
        node.path("sites").forEach(s -> sites.add(s.asText()));
        return new BackfillPage(job, node.path("page").asLong(), node.path("part").asInt(0), bucket, textOrNull(node, "prefix"), textOrNull(node, "afterKey"),
                textOrNull(node, "throughKey"), sites, rules, versions, textOrNull(node, "listedAt"));
    }

    public static byte[] encode(PageOutcome outcome) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("type", TYPE_PAGE_OUTCOME);
        node.put("bucket", outcome.bucket());
        node.put("job", outcome.jobId());
        node.put("page", outcome.number());
        node.put("part", outcome.part());
        node.put("throughKey", outcome.throughKey());
        node.put("site", outcome.site());
        node.put("completed", outcome.completed());
        node.put("completedBytes", outcome.completedBytes());
        node.put("failed", outcome.failed());
        node.put("skipped", outcome.skipped());
        outcome.notCompleted().forEach(node.putArray("notCompleted")::add);
        outcome.remaining().forEach(node.putArray("remaining")::add);
        putIfPresent(node, "timestamp", outcome.timestamp());
        return toBytes(node);
    }

    private static PageOutcome decodePageOutcome(ObjectNode node) {
        String what = "backfill page outcome";
        List<String> notCompleted = new ArrayList<>();
        node.path("notCompleted").forEach(v -> notCompleted.add(v.asText()));
        List<String> remaining = new ArrayList<>();
        node.path("remaining").forEach(v -> remaining.add(v.asText()));
        return new PageOutcome(requiredText(node, "job", what), node.path("page").asLong(), node.path("part").asInt(0),
                requiredText(node, "bucket", what), requiredText(node, "throughKey", what), requiredText(node, "site", what), node.path("completed").asLong(),
                node.path("completedBytes").asLong(), node.path("failed").asLong(), node.path("skipped").asLong(), notCompleted,
                remaining, textOrNull(node, "timestamp"));
    }

    private static ObjectMetadata metadataValue(ObjectNode node, String bucket, VersionKey versionKey) {
        String where = bucket + "/" + versionKey.objectKey();
        JsonNode value = node.get("value");
        if (value == null || value.isNull()) {
            throw new MalformedEntryException("entry for '" + where + "' has no value (object metadata)");
        }
        if (value.isTextual()) {
            try {
                return ObjectMetadata.parse(value.asText());
            } catch (JsonProcessingException e) {
                throw new MalformedEntryException("entry for '" + where + "' has a value that is not JSON: " + e.getOriginalMessage(), e);
            } catch (IOException e) {
                throw new MalformedEntryException("entry for '" + where + "' has a value that is not a JSON object", e);
            }
        }
        if (!value.isObject()) {
            throw new MalformedEntryException("entry for '" + where + "' has a value that is not a JSON object");
        }
        return ObjectMetadata.of((ObjectNode) value);
    }

    private static ObjectNode parseObject(byte[] bytes, String what) {
        if (bytes == null || bytes.length == 0) {
            throw new MalformedEntryException(what + " is empty");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new MalformedEntryException(what + " is not JSON: " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new MalformedEntryException(what + " is not a JSON object");
        }
        return (ObjectNode) node;
    }

    private static String requiredText(ObjectNode node, String field, String what) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull() || !value.isTextual() || value.asText().isEmpty()) {
            throw new MalformedEntryException(what + " has no '" + field + "' field");
        }
        return value.asText();
    }

    private static String textOrNull(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static void putIfPresent(ObjectNode node, String field, String value) {
        if (value != null) {
            node.put(field, value);
        }
    }

    private static byte[] toBytes(ObjectNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize entry", e);
        }
    }
}
