package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.adapters.config.BackbeatConfig.TableNames;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TableStatus;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The project's tables and their keys, in one place (the CDK stack declares the same keys):
 * <ul>
 *   <li>status: {@code object} (bucket/key) + {@code versionId}; one map attribute per site;</li>
 *   <li>failed entries: {@code site} + {@code failureKey} (failure time, then the version), TTL {@code expiresAt},
 *       index {@code byVersion} on {@code version} (bucket/key, NUL, version id) for lookups across sites;</li>
 *   <li>site state: {@code site} (paused, scheduled resume);</li>
 *   <li>checkpoints: {@code feed} (a change feed's resumable position);</li>
 *   <li>metrics: {@code site} + {@code period} (a minute, or {@code total}): counters added atomically;</li>
 *   <li>rules: {@code bucket}: the replication configuration of a source bucket that cannot hold its own (AWS S3);</li>
 *   <li>verify: {@code run} + {@code item}: verify runs ({@code run} = {@code #runs}, {@code item} = the run's id) and
 *       each run's findings ({@code run} = its id, {@code item} = site, bucket, key, version, kind), TTL {@code expiresAt}.</li>
 * </ul>
 */
public final class TableSchemas {

    public static final String STATUS_PK = "object";
    public static final String STATUS_SK = "versionId";
    public static final String FAILED_PK = "site";
    public static final String FAILED_SK = "failureKey";
    public static final String SITE_STATE_PK = "site";
    public static final String CHECKPOINT_PK = "feed";
    public static final String RULES_PK = "bucket";
    public static final String METRICS_PK = "site";
    public static final String METRICS_SK = "period";
    public static final String FAILED_BY_VERSION_INDEX = "byVersion";
    public static final String FAILED_VERSION_ATTRIBUTE = "version";
    public static final String TTL_ATTRIBUTE = "expiresAt";
    public static final String VERIFY_PK = "run";
    public static final String VERIFY_SK = "item";

    private TableSchemas() {
    }

    public static List<CreateTableRequest> createRequests(TableNames names) {
        List<CreateTableRequest> requests = new ArrayList<>();
        requests.add(table(names.status(), STATUS_PK, STATUS_SK));
        CreateTableRequest failed = table(names.failedEntries(), FAILED_PK, FAILED_SK);
        List<AttributeDefinition> failedAttributes = new ArrayList<>(failed.attributeDefinitions());
        failedAttributes.add(AttributeDefinition.builder().attributeName(FAILED_VERSION_ATTRIBUTE).attributeType(ScalarAttributeType.S).build());
        requests.add(failed.toBuilder().attributeDefinitions(failedAttributes)
                .globalSecondaryIndexes(GlobalSecondaryIndex.builder().indexName(FAILED_BY_VERSION_INDEX)
                        .keySchema(KeySchemaElement.builder().attributeName(FAILED_VERSION_ATTRIBUTE).keyType(KeyType.HASH).build())
                        .projection(Projection.builder().projectionType(ProjectionType.ALL).build()).build())
                .build());
        requests.add(table(names.siteState(), SITE_STATE_PK, null));
        requests.add(table(names.checkpoints(), CHECKPOINT_PK, null));
        requests.add(table(names.metrics(), METRICS_PK, METRICS_SK));
        requests.add(table(names.rules(), RULES_PK, null));
        requests.add(table(names.verify(), VERIFY_PK, VERIFY_SK));
        return requests;
    }

    /** Creates the tables that do not exist yet and waits until all are ACTIVE. */
    public static void createMissing(DynamoDbClient dynamo, TableNames names, Duration timeout) {
        List<String> created = new ArrayList<>();
        for (CreateTableRequest request : createRequests(names)) {
            try {
                dynamo.createTable(request);
                created.add(request.tableName());
            } catch (ResourceInUseException alreadyThere) {
                // another process created it first, or a previous run did
            }
        }
        Instant deadline = Instant.now().plus(timeout);
        for (CreateTableRequest request : createRequests(names)) {
            while (dynamo.describeTable(r -> r.tableName(request.tableName())).table().tableStatus() != TableStatus.ACTIVE) {
                if (Instant.now().isAfter(deadline)) {
                    throw new IllegalStateException("table " + request.tableName() + " not ACTIVE after " + timeout);
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted waiting for tables", e);
                }
            }
        }
    }

    private static CreateTableRequest table(String name, String partitionKey, String sortKey) {
        List<AttributeDefinition> attributes = new ArrayList<>();
        List<KeySchemaElement> keys = new ArrayList<>();
        attributes.add(AttributeDefinition.builder().attributeName(partitionKey).attributeType(ScalarAttributeType.S).build());
        keys.add(KeySchemaElement.builder().attributeName(partitionKey).keyType(KeyType.HASH).build());
        if (sortKey != null) {
            attributes.add(AttributeDefinition.builder().attributeName(sortKey).attributeType(ScalarAttributeType.S).build());
            keys.add(KeySchemaElement.builder().attributeName(sortKey).keyType(KeyType.RANGE).build());
        }
        return CreateTableRequest.builder().tableName(name).attributeDefinitions(attributes).keySchema(keys)
                .billingMode(BillingMode.PAY_PER_REQUEST).build();
    }
}
