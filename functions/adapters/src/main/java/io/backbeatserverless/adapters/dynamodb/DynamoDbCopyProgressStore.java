package io.backbeatserverless.adapters.dynamodb;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.core.transfer.CopyProgress;
import io.backbeatserverless.core.transfer.CopyProgressStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link CopyProgressStore} in the checkpoints table: a copy's progress is a resumable position like a feed's, one item
 * per site and source key ({@code copy/<site>/<bucket>/<key>}), with {@code expiresAt} as its TTL; a key's hold is an
 * item of its own beside it ({@code hold/<site>/<bucket>/<key>}). The parts are one JSON attribute: an item stays far
 * below DynamoDB's 400 KB for S3's 10,000 parts at most (about 90 bytes a part).
 */
public final class DynamoDbCopyProgressStore implements CopyProgressStore {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<List<CopyProgress.Part>> PARTS = new TypeReference<>() { };
    private static final String COPY = "copy/";
    private static final String HOLD = "hold/";

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoDbCopyProgressStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    static String id(String site, String bucket, String objectKey) {
        return id(COPY, site, bucket, objectKey);
    }

    private static String id(String kind, String site, String bucket, String objectKey) {
        return kind + site + "/" + bucket + "/" + objectKey;
    }

    @Override
    public Optional<CopyProgress> find(String site, String bucket, String objectKey) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of(TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(id(site, bucket, objectKey))))).item();
        return item == null || !item.containsKey("versionId") ? Optional.empty() : Optional.of(progressOf(site, bucket, objectKey, item));
    }

    @Override
    public Set<String> inProgress(String site, String bucket, Collection<String> objectKeys) {
        return read(COPY, site, bucket, objectKeys, true).keySet();
    }

    @Override
    public Map<String, CopyProgress> holds(String site, String bucket, Collection<String> objectKeys) {
        Map<String, CopyProgress> holds = new LinkedHashMap<>();
        read(HOLD, site, bucket, objectKeys, false).forEach((key, item) -> holds.put(key, progressOf(site, bucket, key, item)));
        return holds;
    }

    /** The items of these keys of one kind, by key (one BatchGetItem per 100 keys); {@code idsOnly}: their ids alone. */
    private Map<String, Map<String, AttributeValue>> read(String kind, String site, String bucket, Collection<String> objectKeys,
                                                          boolean idsOnly) {
        Map<String, Map<String, AttributeValue>> found = new LinkedHashMap<>();
        List<String> keys = new ArrayList<>(new LinkedHashSet<>(objectKeys));
        for (int from = 0; from < keys.size(); from += 100) { // BatchGetItem reads at most 100 keys
            List<Map<String, AttributeValue>> ids = keys.subList(from, Math.min(keys.size(), from + 100)).stream()
                    .map(k -> Map.of(TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(id(kind, site, bucket, k)))).toList();
            KeysAndAttributes.Builder wanted = KeysAndAttributes.builder().keys(ids).consistentRead(true);
            if (idsOnly) {
                wanted.projectionExpression(TableSchemas.CHECKPOINT_PK);
            }
            Map<String, KeysAndAttributes> request = Map.of(table, wanted.build());
            while (!request.isEmpty()) {
                Map<String, KeysAndAttributes> pending = request;
                var answer = dynamo.batchGetItem(r -> r.requestItems(pending));
                for (Map<String, AttributeValue> item : answer.responses().getOrDefault(table, List.of())) {
                    String id = item.get(TableSchemas.CHECKPOINT_PK).s();
                    found.put(id.substring(id(kind, site, bucket, "").length()), item);
                }
                request = answer.hasUnprocessedKeys() ? answer.unprocessedKeys() : Map.of();
            }
        }
        return found;
    }

    private static CopyProgress progressOf(String site, String bucket, String objectKey, Map<String, AttributeValue> item) {
        try {
            return new CopyProgress(site, bucket, objectKey, item.get("versionId").s(), text(item, "sourceETag"),
                    text(item, "uploadId"), text(item, "destinationBucket"), text(item, "destinationKey"),
                    item.containsKey("parts") ? JSON.readValue(item.get("parts").s(), PARTS) : List.of(),
                    Instant.parse(item.get("startedAt").s()),
                    item.containsKey(TableSchemas.TTL_ATTRIBUTE) ? Instant.ofEpochSecond(Long.parseLong(item.get(TableSchemas.TTL_ATTRIBUTE).n())) : null);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("copy progress " + id(site, bucket, objectKey) + " is unreadable: " + e.getOriginalMessage(), e);
        }
    }

    @Override
    public void save(CopyProgress progress) {
        write(COPY, progress);
    }

    @Override
    public void saveHold(CopyProgress hold) {
        write(HOLD, hold);
    }

    private void write(String kind, CopyProgress progress) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(id(kind, progress.site(), progress.bucket(), progress.objectKey())));
        item.put("versionId", AttributeValue.fromS(progress.versionId()));
        if (progress.sourceETag() != null) {
            item.put("sourceETag", AttributeValue.fromS(progress.sourceETag()));
        }
        if (!progress.isHold()) {
            item.put("uploadId", AttributeValue.fromS(progress.uploadId()));
            item.put("destinationBucket", AttributeValue.fromS(progress.destinationBucket()));
            item.put("destinationKey", AttributeValue.fromS(progress.destinationKey()));
            try {
                item.put("parts", AttributeValue.fromS(JSON.writeValueAsString(progress.parts())));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        item.put("startedAt", AttributeValue.fromS(progress.startedAt().toString()));
        if (progress.expiresAt() != null) {
            item.put(TableSchemas.TTL_ATTRIBUTE, AttributeValue.fromN(Long.toString(progress.expiresAt().getEpochSecond())));
        }
        dynamo.putItem(r -> r.tableName(table).item(item));
    }

    private static String text(Map<String, AttributeValue> item, String name) {
        return item.containsKey(name) ? item.get(name).s() : null;
    }

    @Override
    public void remove(String site, String bucket, String objectKey) {
        delete(COPY, site, bucket, objectKey);
    }

    @Override
    public void removeHold(String site, String bucket, String objectKey) {
        delete(HOLD, site, bucket, objectKey);
    }

    private void delete(String kind, String site, String bucket, String objectKey) {
        dynamo.deleteItem(r -> r.tableName(table).key(Map.of(TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(id(kind, site, bucket, objectKey)))));
    }
}
