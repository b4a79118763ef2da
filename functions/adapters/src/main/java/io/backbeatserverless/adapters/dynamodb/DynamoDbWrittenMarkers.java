package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.core.status.WrittenMarkers;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link WrittenMarkers} in the checkpoints table, beside the copies in progress: one item per site, source key and
 * source marker ({@code marker/<site>/<bucket>/<key>\n<marker>}: a newline, which no S3 version id has, ends the key),
 * written with PutItem and read with BatchGetItem (the replicator's grants on that table already), expiring after
 * {@link #KEPT} by the table's TTL. It only has to bridge the status processor's lag: once the marker's outcome is
 * recorded, the status table says it too.
 */
public final class DynamoDbWrittenMarkers implements WrittenMarkers {

    /** How long a record is kept: a week, for a status processor that is down over a weekend. */
    static final Duration KEPT = Duration.ofDays(7);
    private static final String MARKER = "marker/";

    private final DynamoDbClient dynamo;
    private final String table;
    private final Clock clock;

    public DynamoDbWrittenMarkers(DynamoDbClient dynamo, String table, Clock clock) {
        this.dynamo = dynamo;
        this.table = table;
        this.clock = clock;
    }

    private static String id(String site, String bucket, String objectKey, String sourceMarker) {
        return MARKER + site + "/" + bucket + "/" + objectKey + "\n" + sourceMarker;
    }

    @Override
    public void noteWriting(String site, String bucket, String objectKey, String sourceMarker) {
        dynamo.putItem(r -> r.tableName(table).item(Map.of(
                TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(id(site, bucket, objectKey, sourceMarker)),
                "writtenAt", AttributeValue.fromS(clock.instant().toString()),
                TableSchemas.TTL_ATTRIBUTE, AttributeValue.fromN(Long.toString(clock.instant().plus(KEPT).getEpochSecond())))));
    }

    @Override
    public Set<String> written(String site, String bucket, String objectKey, Collection<String> sourceMarkers) {
        Set<String> written = new LinkedHashSet<>();
        List<String> markers = new ArrayList<>(new LinkedHashSet<>(sourceMarkers));
        String prefix = id(site, bucket, objectKey, "");
        for (int from = 0; from < markers.size(); from += 100) { // BatchGetItem reads at most 100 keys
            List<Map<String, AttributeValue>> ids = markers.subList(from, Math.min(markers.size(), from + 100)).stream()
                    .map(m -> Map.of(TableSchemas.CHECKPOINT_PK, AttributeValue.fromS(id(site, bucket, objectKey, m)))).toList();
            UnprocessedItems.untilProcessed(Map.of(table, KeysAndAttributes.builder().keys(ids).consistentRead(true)
                    .projectionExpression(TableSchemas.CHECKPOINT_PK).build()), request -> {
                var answer = dynamo.batchGetItem(r -> r.requestItems(request));
                answer.responses().getOrDefault(table, List.of())
                        .forEach(item -> written.add(item.get(TableSchemas.CHECKPOINT_PK).s().substring(prefix.length())));
                return answer.hasUnprocessedKeys() ? answer.unprocessedKeys() : Map.of();
            });
        }
        return written;
    }
}
