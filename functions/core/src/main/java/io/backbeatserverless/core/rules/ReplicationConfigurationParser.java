package io.backbeatserverless.core.rules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the AWS {@code ReplicationConfiguration} JSON that {@code aws s3api put-bucket-replication}
 * takes: Role, Rules with ID, Status, Priority, Prefix or Filter (Prefix / Tag / And),
 * DeleteMarkerReplication, Destination.Bucket and Destination.StorageClass (comma-separated sites).
 * Every error names the field at fault, e.g. {@code Rules[1].Destination.Bucket is missing}.
 */
public final class ReplicationConfigurationParser {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** IAM's longest role ARN, S3's most rules in a configuration, S3's longest key (bytes), the longest ARN we keep. */
    private static final int MAX_ROLE_ARN = 2048;
    private static final int MAX_RULES = 1000;
    private static final int MAX_KEY_BYTES = 1024;
    private static final int MAX_ARN = 2048;

    private ReplicationConfigurationParser() {
    }

    public static ReplicationConfiguration parse(String json) {
        JsonNode root;
        try {
            root = io.backbeatserverless.core.json.JsonDocuments.parse(json);
        } catch (io.backbeatserverless.core.json.JsonDocuments.MalformedJsonException e) {
            throw new InvalidReplicationConfigurationException("replication configuration is " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new InvalidReplicationConfigurationException("replication configuration must be a JSON object");
        }
        if (root.has("ReplicationConfiguration")) {
            root = root.get("ReplicationConfiguration");
        }
        String role = root.path("Role").asText("");
        JsonNode rulesNode = root.get("Rules");
        if (rulesNode == null || !rulesNode.isArray() || rulesNode.isEmpty()) {
            throw new InvalidReplicationConfigurationException("Rules must be a non-empty list");
        }
        List<RuleFields> rules = new ArrayList<>();
        for (int i = 0; i < rulesNode.size(); i++) {
            rules.add(readRule(rulesNode.get(i), "Rules[" + i + "]"));
        }
        return build(role, rules);
    }

    /**
     * The configuration in the same JSON, as {@code put-bucket-replication} takes it: {@code parse(toJson(c))} equals
     * {@code c}. Every rule is written in the V2 form (Filter.And, Priority and DeleteMarkerReplication stated).
     */
    public static String toJson(ReplicationConfiguration configuration) {
        var root = MAPPER.createObjectNode();
        root.put("Role", configuration.role());
        var rules = root.putArray("Rules");
        for (ReplicationRule rule : configuration.rules()) {
            var node = rules.addObject();
            node.put("ID", rule.id());
            node.put("Status", rule.enabled() ? "Enabled" : "Disabled");
            node.put("Priority", rule.priority());
            var and = node.putObject("Filter").putObject("And");
            and.put("Prefix", rule.prefix());
            var tags = and.putArray("Tags");
            rule.tags().forEach((key, value) -> tags.addObject().put("Key", key).put("Value", value));
            node.putObject("DeleteMarkerReplication").put("Status", rule.deleteMarkerReplication() ? "Enabled" : "Disabled");
            node.putObject("Destination").put("Bucket", rule.destinationBucket()).put("StorageClass", String.join(",", rule.sites()));
        }
        return root.toString();
    }

    /** The fields of one rule as any source states them (JSON here; the S3 API's model in the adapters). */
    public record RuleFields(String id, String status, Integer priority, String prefix, String filterPrefix,
                             Map<String, String> filterTags, boolean hasFilter, String deleteMarkerStatus,
                             String destinationBucket, String storageClass) {
    }

    /** Validates rule fields from any source and builds the configuration: the single set of rules checks. */
    public static ReplicationConfiguration build(String role, List<RuleFields> fields) {
        if (role == null || role.isBlank()) {
            throw new InvalidReplicationConfigurationException("Role is missing");
        }
        if (role.length() > MAX_ROLE_ARN) {
            throw new InvalidReplicationConfigurationException("Role is " + role.length() + " characters long: an IAM role's ARN is at most "
                    + MAX_ROLE_ARN);
        }
        if (fields.isEmpty()) {
            throw new InvalidReplicationConfigurationException("Rules must be a non-empty list");
        }
        if (fields.size() > MAX_RULES) {
            throw new InvalidReplicationConfigurationException("Rules holds " + fields.size() + " rules: S3 allows at most " + MAX_RULES);
        }
        List<ReplicationRule> rules = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<Integer> priorities = new HashSet<>();
        for (int i = 0; i < fields.size(); i++) {
            RuleFields f = fields.get(i);
            String at = "Rules[" + i + "]";
            String id = f.id() == null || f.id().isBlank() ? "rule-" + (i + 1) : f.id();
            if (id.length() > 255) {
                throw new InvalidReplicationConfigurationException(at + ".ID is longer than 255 characters");
            }
            if (!ids.add(id)) {
                throw new InvalidReplicationConfigurationException(at + ".ID '" + id + "' is used by another rule");
            }
            boolean enabled;
            if ("Enabled".equals(f.status())) {
                enabled = true;
            } else if ("Disabled".equals(f.status())) {
                enabled = false;
            } else {
                throw new InvalidReplicationConfigurationException(at + ".Status must be Enabled or Disabled, not "
                        + (f.status() == null ? "missing" : "'" + f.status() + "'"));
            }
            if (f.hasFilter() && f.prefix() != null) {
                throw new InvalidReplicationConfigurationException(at + " has both Prefix and Filter; use one");
            }
            if (f.priority() != null && f.priority() < 0) {
                throw new InvalidReplicationConfigurationException(at + ".Priority must not be negative");
            }
            if (f.priority() != null && fields.size() > 1 && !priorities.add(f.priority())) {
                throw new InvalidReplicationConfigurationException(at + ".Priority " + f.priority() + " is used by another rule");
            }
            if (f.destinationBucket() == null || f.destinationBucket().isBlank()) {
                throw new InvalidReplicationConfigurationException(at + ".Destination.Bucket is missing");
            }
            if (f.destinationBucket().length() > MAX_ARN) {
                throw new InvalidReplicationConfigurationException(at + ".Destination.Bucket is longer than " + MAX_ARN + " characters");
            }
            if (f.storageClass() != null && f.storageClass().length() > MAX_ARN) {
                throw new InvalidReplicationConfigurationException(at + ".Destination.StorageClass is longer than " + MAX_ARN + " characters");
            }
            String stated = f.hasFilter() ? f.filterPrefix() : f.prefix();
            if (stated != null && stated.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
                throw new InvalidReplicationConfigurationException(at + (f.hasFilter() ? ".Filter" : "") + ".Prefix is longer than S3's "
                        + MAX_KEY_BYTES + " bytes for a key");
            }
            List<String> sites = new ArrayList<>();
            if (f.storageClass() != null) {
                for (String site : f.storageClass().split(",")) {
                    if (!site.isBlank()) {
                        sites.add(site.trim());
                    }
                }
            }
            if (sites.isEmpty()) {
                throw new InvalidReplicationConfigurationException(at + ".Destination.StorageClass must name at least one destination site");
            }
            boolean deleteMarkers;
            if (f.deleteMarkerStatus() == null) {
                // V1 rules (Prefix, no Filter) replicate delete markers, as Backbeat and S3's V1 schema do.
                deleteMarkers = !f.hasFilter();
            } else if ("Enabled".equals(f.deleteMarkerStatus()) || "Disabled".equals(f.deleteMarkerStatus())) {
                deleteMarkers = "Enabled".equals(f.deleteMarkerStatus());
            } else {
                throw new InvalidReplicationConfigurationException(at + ".DeleteMarkerReplication.Status must be Enabled or Disabled, not '"
                        + f.deleteMarkerStatus() + "'");
            }
            String prefix = f.hasFilter() ? f.filterPrefix() : f.prefix();
            rules.add(new ReplicationRule(id, enabled, f.priority() == null ? 0 : f.priority(), prefix,
                    f.filterTags() == null ? Map.of() : f.filterTags(), deleteMarkers, f.destinationBucket(), sites));
        }
        return new ReplicationConfiguration(role, rules);
    }

    private static RuleFields readRule(JsonNode rule, String at) {
        if (!rule.isObject()) {
            throw new InvalidReplicationConfigurationException(at + " must be an object");
        }
        Integer priority = null;
        if (rule.has("Priority")) {
            if (!rule.get("Priority").canConvertToInt()) {
                throw new InvalidReplicationConfigurationException(at + ".Priority must be an integer");
            }
            priority = rule.get("Priority").asInt();
        }
        String prefix = rule.has("Prefix") ? rule.get("Prefix").asText() : null;
        JsonNode filter = rule.get("Filter");
        boolean hasFilter = filter != null && !filter.isNull();
        String filterPrefix = "";
        Map<String, String> tags = new LinkedHashMap<>();
        if (hasFilter) {
            if (!filter.isObject()) {
                throw new InvalidReplicationConfigurationException(at + ".Filter must be an object");
            }
            int kinds = (filter.has("Prefix") ? 1 : 0) + (filter.has("Tag") ? 1 : 0) + (filter.has("And") ? 1 : 0);
            if (kinds > 1) {
                throw new InvalidReplicationConfigurationException(at + ".Filter must hold one of Prefix, Tag or And");
            }
            if (filter.has("Prefix")) {
                filterPrefix = filter.get("Prefix").asText();
            } else if (filter.has("Tag")) {
                readTag(filter.get("Tag"), at + ".Filter.Tag", tags);
            } else if (filter.has("And")) {
                JsonNode and = filter.get("And");
                filterPrefix = and.path("Prefix").asText("");
                JsonNode tagList = and.get("Tags");
                if (tagList != null && !tagList.isArray()) {
                    throw new InvalidReplicationConfigurationException(at + ".Filter.And.Tags must be a list");
                }
                if (tagList != null) {
                    for (int t = 0; t < tagList.size(); t++) {
                        readTag(tagList.get(t), at + ".Filter.And.Tags[" + t + "]", tags);
                    }
                }
            }
        }
        JsonNode destination = rule.get("Destination");
        if (destination == null || !destination.isObject()) {
            throw new InvalidReplicationConfigurationException(at + ".Destination is missing");
        }
        String dmStatus = rule.has("DeleteMarkerReplication") ? rule.path("DeleteMarkerReplication").path("Status").asText(null) : null;
        return new RuleFields(rule.path("ID").asText(null), rule.path("Status").asText(null), priority, prefix,
                filterPrefix, tags, hasFilter, dmStatus, destination.path("Bucket").asText(null),
                destination.path("StorageClass").asText(null));
    }

    private static void readTag(JsonNode tag, String at, Map<String, String> into) {
        if (tag == null || !tag.isObject() || !tag.hasNonNull("Key") || tag.get("Key").asText().isEmpty()) {
            throw new InvalidReplicationConfigurationException(at + " needs a Key");
        }
        String key = tag.get("Key").asText();
        if (into.put(key, tag.path("Value").asText("")) != null) {
            throw new InvalidReplicationConfigurationException(at + " repeats tag key '" + key + "'");
        }
    }
}
