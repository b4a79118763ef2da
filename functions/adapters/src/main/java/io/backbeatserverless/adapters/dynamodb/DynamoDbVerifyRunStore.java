package io.backbeatserverless.adapters.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.verify.Finding;
import io.backbeatserverless.core.verify.InventoryWalk;
import io.backbeatserverless.core.verify.SiteCounts;
import io.backbeatserverless.core.verify.VerifyRequest;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.core.verify.VerifyRunStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link VerifyRunStore} on DynamoDB, one table: every run is an item of partition {@code #runs} (sort key: its
 * id, which sorts by start time) holding its state as JSON, its phase and its lease; each run's findings are
 * the items of the partition named by its id, keyed by site, bucket, key, version and kind, so storing one
 * again replaces it. Everything expires {@link #RETENTION} after it was written (TTL).
 */
public final class DynamoDbVerifyRunStore implements VerifyRunStore {

    public static final Duration RETENTION = Duration.ofDays(30);
    private static final String RUNS = "#runs";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final char SEP = '\u0000';

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoDbVerifyRunStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    @Override
    public void create(VerifyRun run) {
        Map<String, AttributeValue> item = new HashMap<>(header(run.id()));
        item.put("state", s(toJson(run)));
        item.put("phase", s(run.phase().name()));
        item.put(TableSchemas.TTL_ATTRIBUTE, n(run.createdAt().plus(RETENTION).getEpochSecond()));
        dynamo.putItem(r -> r.tableName(table).item(item).conditionExpression("attribute_not_exists(#pk)")
                .expressionAttributeNames(Map.of("#pk", TableSchemas.VERIFY_PK)));
    }

    @Override
    public Optional<VerifyRun> find(String id) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).key(header(id)).consistentRead(true)).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(fromJson(item.get("state").s()));
    }

    @Override
    public List<VerifyRun> recent(int limit) {
        QueryResponse response = dynamo.query(r -> r.tableName(table).consistentRead(true).scanIndexForward(false).limit(limit)
                .keyConditionExpression("#pk = :runs").expressionAttributeNames(Map.of("#pk", TableSchemas.VERIFY_PK))
                .expressionAttributeValues(Map.of(":runs", s(RUNS))));
        return response.items().stream().map(item -> fromJson(item.get("state").s())).toList();
    }

    @Override
    public boolean claim(String id, String owner, Instant now, Duration lease) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(header(id))
                    .updateExpression("SET #owner = :owner, #until = :until")
                    .conditionExpression("attribute_exists(#pk) AND attribute_not_exists(#cancelled) AND "
                            + "(attribute_not_exists(#until) OR #until < :now OR #owner = :owner)")
                    .expressionAttributeNames(Map.of("#pk", TableSchemas.VERIFY_PK, "#owner", "leaseOwner", "#until", "leaseUntil",
                            "#cancelled", "cancelled"))
                    .expressionAttributeValues(Map.of(":owner", s(owner), ":until", n(now.plus(lease).toEpochMilli()),
                            ":now", n(now.toEpochMilli()))));
            return true;
        } catch (ConditionalCheckFailedException held) {
            return false;
        }
    }

    @Override
    public void save(VerifyRun run, String owner) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(header(run.id()))
                    .updateExpression("SET #state = :state, #phase = :phase" + (run.phase().finished() ? " REMOVE #until" : ""))
                    .conditionExpression("#owner = :owner AND attribute_not_exists(#cancelled)")
                    .expressionAttributeNames(run.phase().finished()
                            ? Map.of("#state", "state", "#phase", "phase", "#owner", "leaseOwner", "#cancelled", "cancelled", "#until", "leaseUntil")
                            : Map.of("#state", "state", "#phase", "phase", "#owner", "leaseOwner", "#cancelled", "cancelled"))
                    .expressionAttributeValues(Map.of(":state", s(toJson(run)), ":phase", s(run.phase().name()), ":owner", s(owner))));
        } catch (ConditionalCheckFailedException lost) {
            throw new LeaseLostException("verify run " + run.id() + " is no longer held by " + owner + " (cancelled, or taken over)");
        }
    }

    @Override
    public boolean cancel(String id, Instant now) {
        Optional<VerifyRun> run = find(id);
        if (run.isEmpty() || run.get().phase().finished()) {
            return false;
        }
        try {
            dynamo.updateItem(r -> r.tableName(table).key(header(id))
                    .updateExpression("SET #cancelled = :yes, #state = :state, #phase = :cancelled")
                    .conditionExpression("#phase = :was")
                    .expressionAttributeNames(Map.of("#cancelled", "cancelled", "#state", "state", "#phase", "phase"))
                    .expressionAttributeValues(Map.of(":yes", AttributeValue.fromBool(true),
                            ":state", s(toJson(run.get().with(VerifyRun.Phase.CANCELLED, now))),
                            ":cancelled", s(VerifyRun.Phase.CANCELLED.name()), ":was", s(run.get().phase().name()))));
            return true;
        } catch (ConditionalCheckFailedException changed) {
            return cancel(id, now);
        }
    }

    @Override
    public void addFindings(String runId, List<Finding> findings) {
        long expires = Instant.now().plus(RETENTION).getEpochSecond();
        Map<String, Finding> unique = new LinkedHashMap<>();
        findings.forEach(f -> unique.put(findingKey(f), f));
        List<WriteRequest> writes = new ArrayList<>();
        unique.forEach((key, f) -> {
            Map<String, AttributeValue> item = new HashMap<>();
            item.put(TableSchemas.VERIFY_PK, s(runId));
            item.put(TableSchemas.VERIFY_SK, s(key));
            item.put("kind", s(f.kind().name()));
            item.put("site", s(f.site()));
            item.put("bucket", s(f.bucket()));
            item.put("key", s(f.key()));
            item.put("versionId", s(f.versionId()));
            item.put("deleteMarker", AttributeValue.fromBool(f.deleteMarker()));
            item.put("detail", s(f.detail() == null ? "" : f.detail()));
            item.put(TableSchemas.TTL_ATTRIBUTE, n(expires));
            writes.add(WriteRequest.builder().putRequest(PutRequest.builder().item(item).build()).build());
        });
        for (int from = 0; from < writes.size(); from += 25) {
            UnprocessedItems.untilProcessed(Map.of(table, writes.subList(from, Math.min(writes.size(), from + 25))),
                    request -> dynamo.batchWriteItem(r -> r.requestItems(request)).unprocessedItems());
        }
    }

    @Override
    public FindingsPage findings(String runId, String site, String marker, int limit) {
        QueryRequest.Builder query = QueryRequest.builder().tableName(table).consistentRead(true).limit(limit);
        if (site == null) {
            query.keyConditionExpression("#pk = :run").expressionAttributeNames(Map.of("#pk", TableSchemas.VERIFY_PK))
                    .expressionAttributeValues(Map.of(":run", s(runId)));
        } else {
            query.keyConditionExpression("#pk = :run AND begins_with(#sk, :site)")
                    .expressionAttributeNames(Map.of("#pk", TableSchemas.VERIFY_PK, "#sk", TableSchemas.VERIFY_SK))
                    .expressionAttributeValues(Map.of(":run", s(runId), ":site", s(site + SEP)));
        }
        if (marker != null && !marker.isEmpty()) {
            query.exclusiveStartKey(Map.of(TableSchemas.VERIFY_PK, s(runId), TableSchemas.VERIFY_SK, s(marker)));
        }
        QueryResponse response = dynamo.query(query.build());
        List<Finding> findings = response.items().stream().map(item -> new Finding(Finding.Kind.valueOf(item.get("kind").s()),
                item.get("site").s(), item.get("bucket").s(), item.get("key").s(), item.get("versionId").s(),
                Boolean.TRUE.equals(item.get("deleteMarker").bool()), item.get("detail").s())).toList();
        Map<String, AttributeValue> last = response.lastEvaluatedKey();
        return new FindingsPage(findings, last == null || last.isEmpty() ? null : last.get(TableSchemas.VERIFY_SK).s());
    }

    private static String findingKey(Finding f) {
        return f.site() + SEP + f.bucket() + SEP + f.key() + SEP + f.versionId() + SEP + f.kind();
    }

    private static Map<String, AttributeValue> header(String id) {
        return Map.of(TableSchemas.VERIFY_PK, s(RUNS), TableSchemas.VERIFY_SK, s(id));
    }

    // ----- the run's state as JSON -----

    static String toJson(VerifyRun run) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("id", run.id());
        ObjectNode request = node.putObject("request");
        request.put("bucket", run.request().bucket());
        ArrayNode sites = request.putArray("sites");
        run.request().sites().forEach(sites::add);
        request.put("prefix", run.request().prefix());
        request.put("repair", run.request().repair());
        request.put("stuckAfterSeconds", run.request().stuckAfter().toSeconds());
        request.put("deep", run.request().deep());
        request.put("sample", run.request().sample());
        node.put("phase", run.phase().name());
        node.put("createdAt", run.createdAt().toString());
        node.put("updatedAt", run.updatedAt().toString());
        node.put("finishedAt", run.finishedAt() == null ? null : run.finishedAt().toString());
        ArrayNode buckets = node.putArray("buckets");
        run.buckets().forEach(buckets::add);
        node.put("bucketIndex", run.bucketIndex());
        node.put("afterKey", run.afterKey());
        node.put("totalVersions", run.totalVersions());
        node.put("scanned", run.scanned());
        node.put("keys", run.keys());
        ObjectNode bySite = node.putObject("bySite");
        run.bySite().forEach((site, c) -> bySite.set(site, MAPPER.valueToTree(c)));
        node.put("findings", run.findings());
        ArrayNode problems = node.putArray("problems");
        run.problems().forEach(problems::add);
        node.put("error", run.error());
        if (!run.byInventory().isEmpty()) {
            run.byInventory().forEach(node.putArray("byInventory")::add);
        }
        if (run.inventory() != null) {
            node.set("inventory", MAPPER.valueToTree(run.inventory()));
        }
        return node.toString();
    }

    static VerifyRun fromJson(String json) {
        try {
            JsonNode node = MAPPER.readTree(json);
            JsonNode r = node.path("request");
            List<String> sites = new ArrayList<>();
            r.path("sites").forEach(x -> sites.add(x.asText()));
            VerifyRequest request = new VerifyRequest(r.path("bucket").asText(null), sites, r.path("prefix").asText(""),
                    r.path("repair").asBoolean(), Duration.ofSeconds(r.path("stuckAfterSeconds").asLong()), r.path("deep").asBoolean(false),
                    r.path("sample").asDouble(VerifyRequest.DEFAULT_SAMPLE));
            List<String> buckets = new ArrayList<>();
            node.path("buckets").forEach(x -> buckets.add(x.asText()));
            Map<String, SiteCounts> bySite = new LinkedHashMap<>();
            for (var it = node.path("bySite").fields(); it.hasNext(); ) {
                var site = it.next();
                bySite.put(site.getKey(), MAPPER.treeToValue(site.getValue(), SiteCounts.class));
            }
            List<String> problems = new ArrayList<>();
            node.path("problems").forEach(x -> problems.add(x.asText()));
            List<String> byInventory = new ArrayList<>();
            node.path("byInventory").forEach(x -> byInventory.add(x.asText()));
            InventoryWalk inventory = node.path("inventory").isObject() ? MAPPER.treeToValue(node.path("inventory"), InventoryWalk.class) : null;
            return new VerifyRun(node.path("id").asText(), request, VerifyRun.Phase.valueOf(node.path("phase").asText()),
                    Instant.parse(node.path("createdAt").asText()), Instant.parse(node.path("updatedAt").asText()),
                    node.path("finishedAt").isTextual() ? Instant.parse(node.path("finishedAt").asText()) : null, buckets,
                    node.path("bucketIndex").asInt(), node.path("afterKey").asText(null), node.path("totalVersions").asLong(),
                    node.path("scanned").asLong(), node.path("keys").asLong(), bySite, node.path("findings").asLong(), problems,
                    node.path("error").asText(null), byInventory, inventory);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable verify run: " + e.getMessage(), e);
        }
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }
}
