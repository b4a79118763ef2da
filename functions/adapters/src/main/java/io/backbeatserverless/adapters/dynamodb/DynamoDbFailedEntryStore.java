package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.core.ops.FailedEntry;
import io.backbeatserverless.core.ops.FailedEntryStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link FailedEntryStore} on DynamoDB: one partition per site, sorted by {@code failureKey} (failure
 * time in zero-padded epoch milliseconds, then the version), a TTL attribute for AWS to expire entries,
 * and the same expiry enforced on read (dynalite has no TTL). The {@code byVersion} index finds a
 * version's entries at every site.
 */
public final class DynamoDbFailedEntryStore implements FailedEntryStore {

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoDbFailedEntryStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    @Override
    public void record(FailedEntry e) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(TableSchemas.FAILED_PK, s(e.site()));
        item.put(TableSchemas.FAILED_SK, s(failureKey(e)));
        item.put(TableSchemas.FAILED_VERSION_ATTRIBUTE, s(version(e.bucket(), e.objectKey(), e.versionId())));
        item.put("failedAt", s(e.failedAt().toString()));
        item.put("bucket", s(e.bucket()));
        item.put("key", s(e.objectKey()));
        item.put("versionId", s(e.versionId()));
        item.put("size", n(e.size()));
        if (e.lastModified() != null) {
            item.put("lastModified", s(e.lastModified()));
        }
        item.put("reason", s(e.reason() == null ? "" : e.reason()));
        item.put("attempts", n(e.attempts()));
        item.put("entry", s(e.entry()));
        if (e.expiresAt() != null) {
            item.put(TableSchemas.TTL_ATTRIBUTE, n(e.expiresAt().getEpochSecond()));
        }
        if (e.retryable()) {
            item.put("retryable", AttributeValue.fromBool(true));
        }
        if (e.autoRetries() > 0) {
            item.put("autoRetries", n(e.autoRetries()));
        }
        if (e.nextRetryAt() != null) {
            item.put("nextRetryAt", s(e.nextRetryAt().toString()));
        }
        dynamo.putItem(r -> r.tableName(table).item(item));
        // One entry per version and site: an earlier failure of the version there is replaced by this one.
        byVersion(e.bucket(), e.objectKey(), e.versionId())
                .filter(other -> e.site().equals(other.get(TableSchemas.FAILED_PK).s()) && !failureKey(e).equals(other.get(TableSchemas.FAILED_SK).s()))
                .forEach(this::delete);
    }

    @Override
    public Page list(String site, String marker, int limit, Instant now) {
        QueryRequest.Builder query = QueryRequest.builder().tableName(table).consistentRead(true)
                .keyConditionExpression("#pk = :site").expressionAttributeNames(Map.of("#pk", TableSchemas.FAILED_PK))
                .expressionAttributeValues(Map.of(":site", s(site)));
        if (marker != null && !marker.isEmpty()) {
            query.exclusiveStartKey(Map.of(TableSchemas.FAILED_PK, s(site), TableSchemas.FAILED_SK, s(marker)));
        }
        List<FailedEntry> live = new ArrayList<>();
        String last = null;
        for (Map<String, AttributeValue> item : dynamo.queryPaginator(query.limit(limit + 1).build()).items()) {
            FailedEntry e = toEntry(item);
            if (e.isExpired(now)) {
                continue;
            }
            if (live.size() == limit) {
                return new Page(List.copyOf(live), true, last);
            }
            live.add(e);
            last = item.get(TableSchemas.FAILED_SK).s();
        }
        return new Page(List.copyOf(live), false, null);
    }

    @Override
    public List<FailedEntry> findByVersion(String bucket, String objectKey, String versionId, Instant now) {
        return byVersion(bucket, objectKey, versionId).map(DynamoDbFailedEntryStore::toEntry).filter(e -> !e.isExpired(now)).toList();
    }

    @Override
    public void remove(String site, String bucket, String objectKey, String versionId) {
        byVersion(bucket, objectKey, versionId).filter(item -> site.equals(item.get(TableSchemas.FAILED_PK).s())).forEach(this::delete);
    }

    @Override
    public void removeEntry(FailedEntry entry) {
        dynamo.deleteItem(r -> r.tableName(table).key(Map.of(TableSchemas.FAILED_PK, s(entry.site()),
                TableSchemas.FAILED_SK, s(failureKey(entry)))));
    }

    private java.util.stream.Stream<Map<String, AttributeValue>> byVersion(String bucket, String objectKey, String versionId) {
        QueryRequest query = QueryRequest.builder().tableName(table).indexName(TableSchemas.FAILED_BY_VERSION_INDEX)
                .keyConditionExpression("#v = :v").expressionAttributeNames(Map.of("#v", TableSchemas.FAILED_VERSION_ATTRIBUTE))
                .expressionAttributeValues(Map.of(":v", s(version(bucket, objectKey, versionId)))).build();
        return dynamo.queryPaginator(query).items().stream();
    }

    private void delete(Map<String, AttributeValue> item) {
        dynamo.deleteItem(r -> r.tableName(table).key(Map.of(TableSchemas.FAILED_PK, item.get(TableSchemas.FAILED_PK),
                TableSchemas.FAILED_SK, item.get(TableSchemas.FAILED_SK))));
    }

    /** The sort key: the failure time (zero-padded epoch milliseconds, so entries sort by it), then the version. */
    private static String failureKey(FailedEntry e) {
        return String.format("%015d", e.failedAt().toEpochMilli()) + "#" + version(e.bucket(), e.objectKey(), e.versionId());
    }

    private static FailedEntry toEntry(Map<String, AttributeValue> item) {
        return new FailedEntry(item.get(TableSchemas.FAILED_PK).s(), Instant.parse(item.get("failedAt").s()),
                item.get("bucket").s(), item.get("key").s(), item.get("versionId").s(),
                Long.parseLong(item.get("size").n()), item.containsKey("lastModified") ? item.get("lastModified").s() : null,
                item.get("reason").s(), Integer.parseInt(item.get("attempts").n()), item.get("entry").s(),
                item.containsKey(TableSchemas.TTL_ATTRIBUTE) ? Instant.ofEpochSecond(Long.parseLong(item.get(TableSchemas.TTL_ATTRIBUTE).n())) : null,
                item.containsKey("retryable") && Boolean.TRUE.equals(item.get("retryable").bool()),
                item.containsKey("autoRetries") ? Integer.parseInt(item.get("autoRetries").n()) : 0,
                item.containsKey("nextRetryAt") ? Instant.parse(item.get("nextRetryAt").s()) : null);
    }

    private static String version(String bucket, String key, String versionId) {
        return bucket + "/" + key + "\u0000" + versionId;
    }

    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    private static AttributeValue n(long v) {
        return AttributeValue.fromN(Long.toString(v));
    }
}
