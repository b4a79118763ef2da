package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.core.ops.SiteState;
import io.backbeatserverless.core.ops.SiteStateStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** {@link SiteStateStore} on DynamoDB: one item per site. */
public final class DynamoDbSiteStateStore implements SiteStateStore {

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoDbSiteStateStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    @Override
    public Optional<SiteState> find(String site) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of(TableSchemas.SITE_STATE_PK, AttributeValue.fromS(site)))).item();
        if (item == null || item.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new SiteState(site, item.get("paused").bool(),
                item.containsKey("scheduledResume") ? Instant.parse(item.get("scheduledResume").s()) : null));
    }

    @Override
    public void save(SiteState state) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put(TableSchemas.SITE_STATE_PK, AttributeValue.fromS(state.site()));
        item.put("paused", AttributeValue.fromBool(state.paused()));
        if (state.scheduledResume() != null) {
            item.put("scheduledResume", AttributeValue.fromS(state.scheduledResume().toString()));
        }
        dynamo.putItem(r -> r.tableName(table).item(item));
    }

    @Override
    public boolean resumeIfScheduled(String site, Instant expected) {
        try {
            dynamo.putItem(r -> r.tableName(table)
                    .item(Map.of(TableSchemas.SITE_STATE_PK, AttributeValue.fromS(site), "paused", AttributeValue.fromBool(false)))
                    .conditionExpression("scheduledResume = :expected")
                    .expressionAttributeValues(Map.of(":expected", AttributeValue.fromS(expected.toString()))));
            return true;
        } catch (ConditionalCheckFailedException changedMeanwhile) {
            return false;
        }
    }
}
