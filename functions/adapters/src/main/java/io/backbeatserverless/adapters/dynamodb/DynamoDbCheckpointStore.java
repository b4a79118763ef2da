package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.core.ops.CheckpointStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.time.Clock;
import java.util.Map;
import java.util.OptionalLong;

/** {@link CheckpointStore} on DynamoDB: one item per feed, written with a condition that it only moves forward. */
public final class DynamoDbCheckpointStore implements CheckpointStore {

    private final DynamoDbClient dynamo;
    private final String table;
    private final Clock clock;

    public DynamoDbCheckpointStore(DynamoDbClient dynamo, String table, Clock clock) {
        this.dynamo = dynamo;
        this.table = table;
        this.clock = clock;
    }

    @Override
    public OptionalLong load(String feed) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of(TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(feed)))).item();
        return item == null || !item.containsKey("position") ? OptionalLong.empty()
                : OptionalLong.of(Long.parseLong(item.get("position").n()));
    }

    @Override
    public java.util.Optional<String> loadState(String feed) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of(TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(feed)))).item();
        return item == null || !item.containsKey("state") ? java.util.Optional.empty() : java.util.Optional.of(item.get("state").s());
    }

    @Override
    public void saveState(String feed, String state) {
        dynamo.putItem(r -> r.tableName(table).item(Map.of(TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(feed),
                "state", AttributeValue.fromS(state), "updatedAt", AttributeValue.fromS(clock.instant().toString()))));
    }

    @Override
    public boolean save(String feed, long position) {
        try {
            dynamo.putItem(r -> r.tableName(table)
                    .item(Map.of(TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(feed),
                            "position", AttributeValue.fromN(Long.toString(position)),
                            "updatedAt", AttributeValue.fromS(clock.instant().toString())))
                    .conditionExpression("attribute_not_exists(#p) OR #p <= :p")
                    .expressionAttributeNames(Map.of("#p", "position"))
                    .expressionAttributeValues(Map.of(":p", AttributeValue.fromN(Long.toString(position)))));
            return true;
        } catch (ConditionalCheckFailedException newerAlready) {
            return false;
        }
    }
}
