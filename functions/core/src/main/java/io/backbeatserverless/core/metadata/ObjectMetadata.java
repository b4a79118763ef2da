package io.backbeatserverless.core.metadata;

import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.status.ReplicationStatus;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One object version's metadata in CloudServer's document format (see
 * {@code shared/reference/cloudserver-object-metadata.json}). The whole document is kept, including
 * fields this engine does not read, so that writing it back to CloudServer loses nothing.
 * Instances are immutable: every {@code with...} returns a modified copy.
 */
public final class ObjectMetadata {

    public static final String USER_METADATA_PREFIX = "x-amz-meta-";
    /** Content headers CloudServer keeps at the top level under their HTTP names. */
    public static final List<String> CONTENT_HEADERS = List.of(
            "content-type", "cache-control", "content-disposition", "content-encoding", "content-language", "expires");

    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();

    private final ObjectNode document;
    /** The JSON text the document was read from, reused as is when it is written again unchanged. */
    private final String text;
    /** replicationInfo, read from the document once (it is immutable). */
    private volatile Optional<ReplicationInfo> replicationInfo;

    private ObjectMetadata(ObjectNode document) {
        this(document, null);
    }

    private ObjectMetadata(ObjectNode document, String text) {
        this.document = document;
        this.text = text;
    }

    public static ObjectMetadata of(ObjectNode document) {
        return new ObjectMetadata(document.deepCopy());
    }

    /** Reads a metadata document from its JSON text (which {@link #toString()} then returns unchanged). */
    public static ObjectMetadata parse(String json) throws java.io.IOException {
        com.fasterxml.jackson.databind.JsonNode node = MAPPER.readTree(json);
        if (node == null || !node.isObject()) {
            throw new java.io.IOException("object metadata must be a JSON object");
        }
        return new ObjectMetadata((ObjectNode) node, json);
    }

    public static Builder builder(String objectKey, String versionId) {
        return new Builder(objectKey, versionId);
    }

    /** A copy of the underlying document. */
    public ObjectNode toJson() {
        return document.deepCopy();
    }

    public String objectKey() {
        return text("key");
    }

    public String versionId() {
        return text("versionId");
    }

    public long contentLength() {
        return document.path("content-length").asLong(0);
    }

    public String contentMd5() {
        return text("content-md5");
    }

    public String lastModified() {
        return text("last-modified");
    }

    public boolean isDeleteMarker() {
        return document.path("isDeleteMarker").asBoolean(false);
    }

    /** Non-empty content headers (Content-Type and the like), keyed by lower-case HTTP name. */
    public Map<String, String> contentHeaders() {
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : CONTENT_HEADERS) {
            String value = text(name);
            if (value != null && !value.isEmpty()) {
                headers.put(name, value);
            }
        }
        return headers;
    }

    /** User metadata without the {@code x-amz-meta-} prefix. */
    public Map<String, String> userMetadata() {
        Map<String, String> meta = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = document.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().startsWith(USER_METADATA_PREFIX)) {
                meta.put(field.getKey().substring(USER_METADATA_PREFIX.length()), field.getValue().asText());
            }
        }
        return meta;
    }

    public Map<String, String> tags() {
        Map<String, String> tags = new LinkedHashMap<>();
        document.path("tags").fields().forEachRemaining(f -> tags.put(f.getKey(), f.getValue().asText()));
        return tags;
    }

    public Optional<ReplicationInfo> replicationInfo() {
        Optional<ReplicationInfo> read = replicationInfo;
        if (read == null) {
            read = readReplicationInfo();
            replicationInfo = read;
        }
        return read;
    }

    private Optional<ReplicationInfo> readReplicationInfo() {
        JsonNode info = document.get("replicationInfo");
        if (info == null || !info.isObject() || info.path("status").asText("").isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(ReplicationInfo.fromJson((ObjectNode) info));
    }

    /** A copy whose replicationInfo records {@code status} for {@code site} and the overall status that follows. */
    public ObjectMetadata withSiteStatus(String site, ReplicationStatus status) {
        return withSiteStatus(site, status, null);
    }

    /**
     * The same, for a document that may have no replication status yet: a version CloudServer stored before its bucket
     * had a replication rule (its {@code replicationInfo} is there, with an empty status and no backends) starts from
     * {@code whenNone}, the replicationInfo its rule gives (as CloudServer's own {@code getReplicationInfo} would have
     * written at the put); the fields CloudServer keeps there besides ours stay. Backbeat's way of replicating existing
     * objects (s3utils' crrExistingObjects) writes that same PENDING replicationInfo into each version first.
     */
    public ObjectMetadata withSiteStatus(String site, ReplicationStatus status, ReplicationInfo whenNone) {
        ObjectNode copy = document.deepCopy();
        ReplicationInfo info = replicationInfo().or(() -> java.util.Optional.ofNullable(whenNone)).orElseThrow(
                () -> new IllegalStateException("object '" + objectKey() + "' has no replicationInfo"));
        ObjectNode target = copy.get("replicationInfo") instanceof ObjectNode existing ? existing : copy.putObject("replicationInfo");
        copy.set("replicationInfo", info.withSiteStatus(site, status).mergeInto(target));
        return new ObjectMetadata(copy);
    }

    /** A copy whose replicationInfo names {@code site} alone: a retry re-queues a version for the site that failed. */
    public ObjectMetadata onlySite(String site) {
        ObjectNode copy = document.deepCopy();
        ReplicationInfo info = replicationInfo().orElseThrow(
                () -> new IllegalStateException("object '" + objectKey() + "' has no replicationInfo"));
        ReplicationInfo narrowed = new ReplicationInfo(info.status(),
                info.backends().stream().filter(b -> b.site().equals(site)).toList(),
                info.content(), info.destination(), info.storageClass(), info.role());
        copy.set("replicationInfo", narrowed.mergeInto((ObjectNode) copy.get("replicationInfo")));
        return new ObjectMetadata(copy);
    }

    /**
     * Ours, for the S3-events feed: the rules that could select this version when the populator could not read its tags
     * (issue 28: a version the populator cannot read must not sink its batch). The replicator reads the tags and
     * chooses among them (see {@code RuleDecidingReplicator}); absent when the rule was chosen at the source.
     */
    public static final String UNDECIDED_RULES = "x-backbeat-undecided-rules";

    /** The candidate rules when the rule is still to choose from the version's tags; empty when it was chosen. */
    public Optional<ReplicationConfiguration> undecidedRules() {
        JsonNode node = document.get(UNDECIDED_RULES);
        return node == null || node.isNull() ? Optional.empty() : Optional.of(ReplicationConfigurationParser.parse(node.toString()));
    }

    /** The same version as a change of its metadata alone (replicationInfo content {@code METADATA}), as a tag change is. */
    public ObjectMetadata asMetadataChange() {
        ObjectNode copy = document.deepCopy();
        if (copy.get("replicationInfo") instanceof ObjectNode info) {
            info.putArray("content").add("METADATA");
        }
        return new ObjectMetadata(copy);
    }

    /**
     * The version as the rule chosen from its tags makes it: that rule's destination, the tags read, no candidates left.
     * The sites' statuses are kept as they are.
     */
    public ObjectMetadata decidedBy(io.backbeatserverless.core.rules.ReplicationRule rule, Map<String, String> tags) {
        ObjectNode copy = document.deepCopy();
        copy.remove(UNDECIDED_RULES);
        ObjectNode tagNode = copy.putObject("tags");
        tags.forEach(tagNode::put);
        if (copy.get("replicationInfo") instanceof ObjectNode info) {
            info.put("destination", rule.destinationBucket());
            info.put("storageClass", String.join(",", rule.sites()));
        }
        return new ObjectMetadata(copy);
    }

    /**
     * The document a CloudServer replica carries, as Backbeat's {@code toReplicaEntry} makes it:
     * replication status {@code REPLICA}, and the data locations the destination returned.
     */
    public ObjectMetadata asReplica(com.fasterxml.jackson.databind.node.ArrayNode locations) {
        ObjectNode copy = document.deepCopy();
        copy.remove(UNDECIDED_RULES); // decided by now, and ours: no replica carries it
        if (copy.get("replicationInfo") instanceof ObjectNode info) {
            info.put("status", ReplicationStatus.REPLICA.name());
        }
        if (locations != null) {
            copy.set("location", locations);
        }
        return new ObjectMetadata(copy);
    }

    private String text(String field) {
        JsonNode node = document.get(field);
        return node == null || node.isNull() ? null : node.asText();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ObjectMetadata other && document.equals(other.document);
    }

    @Override
    public int hashCode() {
        return document.hashCode();
    }

    @Override
    public String toString() {
        return text != null ? text : document.toString();
    }

    /** Builds the metadata document for sources that do not have CloudServer's (listing and event feeds). */
    public static final class Builder {
        private final ObjectNode doc = JsonNodeFactory.instance.objectNode();

        private Builder(String objectKey, String versionId) {
            doc.put("key", objectKey);
            doc.put("versionId", versionId);
            doc.put("isDeleteMarker", false);
            doc.put("content-length", 0L);
            doc.set("tags", JsonNodeFactory.instance.objectNode());
        }

        public Builder contentLength(long length) {
            doc.put("content-length", length);
            return this;
        }

        public Builder contentMd5(String md5) {
            if (md5 != null) {
                doc.put("content-md5", md5);
            }
            return this;
        }

        public Builder lastModified(String isoInstant) {
            if (isoInstant != null) {
                doc.put("last-modified", isoInstant);
            }
            return this;
        }

        public Builder deleteMarker(boolean deleteMarker) {
            doc.put("isDeleteMarker", deleteMarker);
            return this;
        }

        public Builder contentHeader(String name, String value) {
            if (value != null && !value.isEmpty()) {
                doc.put(name.toLowerCase(java.util.Locale.ROOT), value);
            }
            return this;
        }

        public Builder userMetadata(Map<String, String> meta) {
            meta.forEach((k, v) -> doc.put(USER_METADATA_PREFIX + k.toLowerCase(java.util.Locale.ROOT), v));
            return this;
        }

        public Builder tags(Map<String, String> tags) {
            ObjectNode node = JsonNodeFactory.instance.objectNode();
            tags.forEach(node::put);
            doc.set("tags", node);
            return this;
        }

        /** Rules to choose from by the version's tags, which could not be read yet (see {@link #UNDECIDED_RULES}). */
        public Builder undecidedRules(ReplicationConfiguration candidates) {
            try {
                doc.set(UNDECIDED_RULES, MAPPER.readTree(ReplicationConfigurationParser.toJson(candidates)));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("a replication configuration written as JSON did not read back", e);
            }
            return this;
        }

        public Builder replicationInfo(ReplicationInfo info) {
            doc.set("replicationInfo", info.mergeInto(JsonNodeFactory.instance.objectNode()));
            return this;
        }

        public ObjectMetadata build() {
            return new ObjectMetadata(doc.deepCopy());
        }
    }

    /**
     * CloudServer's {@code replicationInfo}: the overall status, one backend per destination site, what
     * to copy ({@code DATA}, {@code METADATA}) and the rule's destination and role.
     */
    public record ReplicationInfo(ReplicationStatus status, List<Backend> backends, List<String> content,
                                  String destination, String storageClass, String role) {

        public ReplicationInfo {
            backends = List.copyOf(backends);
            content = List.copyOf(content);
        }

        public List<String> sites() {
            return backends.stream().map(Backend::site).toList();
        }

        public Optional<Backend> backend(String site) {
            return backends.stream().filter(b -> b.site().equals(site)).findFirst();
        }

        /** True when only metadata changed (a tag update): the data is already at the site. */
        public boolean isMetadataOnly() {
            return !content.isEmpty() && !content.contains("DATA");
        }

        ReplicationInfo withSiteStatus(String site, ReplicationStatus siteStatus) {
            List<Backend> updated = new ArrayList<>();
            boolean found = false;
            for (Backend b : backends) {
                if (b.site().equals(site)) {
                    updated.add(new Backend(site, siteStatus, b.dataStoreVersionId()));
                    found = true;
                } else {
                    updated.add(b);
                }
            }
            if (!found) {
                updated.add(new Backend(site, siteStatus, ""));
            }
            Map<String, ReplicationStatus> bySite = new LinkedHashMap<>();
            updated.forEach(b -> bySite.put(b.site(), b.status()));
            return new ReplicationInfo(io.backbeatserverless.core.status.StatusMerge.overall(bySite),
                    updated, content, destination, storageClass, role);
        }

        static ReplicationInfo fromJson(ObjectNode node) {
            List<Backend> backends = new ArrayList<>();
            node.path("backends").forEach(b -> backends.add(new Backend(
                    b.path("site").asText(),
                    ReplicationStatus.parse(b.path("status").asText("PENDING")),
                    b.path("dataStoreVersionId").asText(""))));
            List<String> content = new ArrayList<>();
            node.path("content").forEach(c -> content.add(c.asText()));
            return new ReplicationInfo(ReplicationStatus.parse(node.path("status").asText()), backends, content,
                    node.path("destination").asText(""), node.path("storageClass").asText(""),
                    node.path("role").asText(""));
        }

        /** Writes these fields over {@code target}, keeping any other field CloudServer put there. */
        ObjectNode mergeInto(ObjectNode target) {
            target.put("status", status.name());
            ArrayNode backendsNode = target.putArray("backends");
            for (Backend b : backends) {
                ObjectNode bn = backendsNode.addObject();
                bn.put("site", b.site());
                bn.put("status", b.status().name());
                bn.put("dataStoreVersionId", b.dataStoreVersionId());
            }
            ArrayNode contentNode = target.putArray("content");
            content.forEach(contentNode::add);
            target.put("destination", destination);
            target.put("storageClass", storageClass);
            target.put("role", role);
            return target;
        }
    }

    public record Backend(String site, ReplicationStatus status, String dataStoreVersionId) {
    }
}
