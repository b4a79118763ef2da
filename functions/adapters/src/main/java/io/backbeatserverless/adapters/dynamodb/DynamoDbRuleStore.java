package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.core.rules.RuleStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** {@link RuleStore} on DynamoDB: one item per source bucket, the configuration JSON as given. */
public final class DynamoDbRuleStore implements RuleStore {

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoDbRuleStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    @Override
    public Optional<String> find(String bucket) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of(TableSchemas.RULES_PK, AttributeValue.fromS(bucket)))).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(item.get("configuration").s());
    }

    @Override
    public void put(String bucket, String configurationJson) {
        dynamo.putItem(r -> r.tableName(table).item(Map.of(TableSchemas.RULES_PK, AttributeValue.fromS(bucket),
                "configuration", AttributeValue.fromS(configurationJson))));
    }

    @Override
    public void delete(String bucket) {
        dynamo.deleteItem(r -> r.tableName(table).key(Map.of(TableSchemas.RULES_PK, AttributeValue.fromS(bucket))));
    }

    @Override
    public Map<String, String> all() {
        Map<String, String> rules = new TreeMap<>();
        dynamo.scanPaginator(r -> r.tableName(table).consistentRead(true)).items()
                .forEach(item -> rules.put(item.get(TableSchemas.RULES_PK).s(), item.get("configuration").s()));
        return rules;
    }
}
