package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.core.ops.Counters;
import io.backbeatserverless.core.ops.MetricsStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link MetricsStore} on DynamoDB: per site, one item per minute ({@code period} = the minute's ISO
 * instant) and one {@code total} item; every change is an atomic ADD, so concurrent functions never
 * lose a count. Minute items carry a TTL of two days. The total item also records, per status-topic
 * partition, the last offset counted ({@code counted:<topic>-<partition>}), so a replayed batch counts nothing twice;
 * so does each minute item, for the batches counted into it, so that a batch delivered again after its minute was
 * written and before its totals were adds to the totals alone.
 */
public final class DynamoDbMetricsStore implements MetricsStore {

    private static final String TOTAL = "total";
    /** Attributes of the total item: how far each status-topic partition has been counted. */
    private static final String COUNTED_PREFIX = "counted:";
    private static final String[] FIELDS = {"queued", "queuedBytes", "completed", "completedBytes", "failed", "failedBytes",
            "skipped", "skippedBytes"};

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoDbMetricsStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    @Override
    public void add(String site, Instant at, Counters delta, Map<String, Long> countedThrough) {
        if (delta.isZero() && countedThrough.isEmpty()) {
            return;
        }
        Instant minute = at.truncatedTo(ChronoUnit.MINUTES);
        if (!delta.isZero()) {
            try {
                // The minute keeps how far it has counted too (issue 28: a crash between the two writes counted the minute
                // twice when the batch came again): it takes a batch only if none of its offsets is counted there yet.
                addTo(site, minute.toString(), delta, minute.plus(2, ChronoUnit.DAYS), countedThrough);
            } catch (software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException countedAlready) {
                // this batch's minute was written before the totals, by its first delivery: the totals are what is left
            }
        }
        addTo(site, TOTAL, delta, null, countedThrough);
    }

    @Override
    public Map<String, Long> countedThrough(String site) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of(TableSchemas.METRICS_PK, AttributeValue.fromS(site), TableSchemas.METRICS_SK, AttributeValue.fromS(TOTAL)))).item();
        Map<String, Long> through = new LinkedHashMap<>();
        if (item != null) {
            item.forEach((name, value) -> {
                if (name.startsWith(COUNTED_PREFIX)) {
                    through.put(name.substring(COUNTED_PREFIX.length()), Long.parseLong(value.n()));
                }
            });
        }
        return through;
    }

    private void addTo(String site, String period, Counters delta, Instant expiresAt, Map<String, Long> countedThrough) {
        long[] values = values(delta);
        StringBuilder update = new StringBuilder("ADD ");
        Map<String, String> names = new LinkedHashMap<>();
        Map<String, AttributeValue> vals = new LinkedHashMap<>();
        for (int i = 0; i < FIELDS.length; i++) {
            update.append(i == 0 ? "" : ", ").append("#f").append(i).append(" :v").append(i);
            names.put("#f" + i, FIELDS[i]);
            vals.put(":v" + i, AttributeValue.fromN(Long.toString(values[i])));
        }
        List<String> sets = new java.util.ArrayList<>();
        if (expiresAt != null) {
            sets.add("#ttl = :ttl");
            names.put("#ttl", TableSchemas.TTL_ATTRIBUTE);
            vals.put(":ttl", AttributeValue.fromN(Long.toString(expiresAt.getEpochSecond())));
        }
        int c = 0;
        for (Map.Entry<String, Long> partition : countedThrough.entrySet()) {
            sets.add("#c" + c + " = :c" + c);
            names.put("#c" + c, COUNTED_PREFIX + partition.getKey());
            vals.put(":c" + c, AttributeValue.fromN(Long.toString(partition.getValue())));
            c++;
        }
        if (!sets.isEmpty()) {
            update.append(" SET ").append(String.join(", ", sets));
        }
        // A minute item takes the batch only where it has counted none of its offsets (the totals: their caller filters).
        String condition = expiresAt == null || countedThrough.isEmpty() ? null : java.util.stream.IntStream.range(0, countedThrough.size())
                .mapToObj(i -> "(attribute_not_exists(#c" + i + ") OR #c" + i + " < :c" + i + ")")
                .collect(java.util.stream.Collectors.joining(" AND "));
        dynamo.updateItem(r -> r.tableName(table)
                .key(Map.of(TableSchemas.METRICS_PK, AttributeValue.fromS(site), TableSchemas.METRICS_SK, AttributeValue.fromS(period)))
                .updateExpression(update.toString()).conditionExpression(condition)
                .expressionAttributeNames(names).expressionAttributeValues(vals));
    }

    @Override
    public Counters sum(String site, Instant from, Instant to) {
        return series(site, from, to).values().stream().reduce(Counters.ZERO, Counters::plus);
    }

    @Override
    public java.util.SortedMap<Instant, Counters> series(String site, Instant from, Instant to) {
        QueryRequest query = QueryRequest.builder().tableName(table).consistentRead(true)
                .keyConditionExpression("#pk = :site AND #sk BETWEEN :from AND :to")
                .expressionAttributeNames(Map.of("#pk", TableSchemas.METRICS_PK, "#sk", TableSchemas.METRICS_SK))
                .expressionAttributeValues(Map.of(":site", AttributeValue.fromS(site),
                        ":from", AttributeValue.fromS(from.truncatedTo(ChronoUnit.MINUTES).toString()),
                        ":to", AttributeValue.fromS(to.truncatedTo(ChronoUnit.MINUTES).toString())))
                .build();
        java.util.SortedMap<Instant, Counters> series = new java.util.TreeMap<>();
        for (Map<String, AttributeValue> item : dynamo.queryPaginator(query).items()) {
            String period = item.get(TableSchemas.METRICS_SK).s();
            if (!TOTAL.equals(period)) {
                series.put(Instant.parse(period), counters(item));
            }
        }
        return series;
    }

    @Override
    public Counters totals(String site) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of(TableSchemas.METRICS_PK, AttributeValue.fromS(site), TableSchemas.METRICS_SK, AttributeValue.fromS(TOTAL)))).item();
        return item == null || item.isEmpty() ? Counters.ZERO : counters(item);
    }

    private static long[] values(Counters c) {
        return new long[]{c.queued(), c.queuedBytes(), c.completed(), c.completedBytes(), c.failed(), c.failedBytes(),
                c.skipped(), c.skippedBytes()};
    }

    private static Counters counters(Map<String, AttributeValue> item) {
        long[] v = new long[FIELDS.length];
        for (int i = 0; i < FIELDS.length; i++) {
            AttributeValue a = item.get(FIELDS[i]);
            v[i] = a == null ? 0 : Long.parseLong(a.n());
        }
        return new Counters(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
    }
}
