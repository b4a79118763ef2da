package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.core.entry.StatusEntry;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.ReplicationStatusStore;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.StatusMerge;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.core.status.VersionStatus;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link ReplicationStatusStore} on DynamoDB. One item per version ({@code object} = bucket/key,
 * {@code versionId}); each site's outcome is a map attribute {@code site:<name>}, so sites update
 * independently, and {@link StatusMerge}'s rule is a condition on that attribute alone.
 */
public final class DynamoDbReplicationStatusStore implements ReplicationStatusStore {

    private static final String SITE_PREFIX = "site:";
    private static final int BATCH_GET_LIMIT = 100;
    private static final int BATCH_WRITE_LIMIT = 25;

    private final DynamoDbClient dynamo;
    private final String table;
    private final Clock clock;
    private final java.time.Duration completedRetention;
    private final DynamoDbBackfillJobStore pages;

    public DynamoDbReplicationStatusStore(DynamoDbClient dynamo, String table, Clock clock) {
        this(dynamo, table, clock, null);
    }

    /**
     * @param completedRetention how long a version's record is kept once every site its rule names has COMPLETED it (the
     *                           table's TTL attribute, {@value TableSchemas#TTL_ATTRIBUTE}, epoch seconds, removes it then);
     *                           null: kept. A record with a site PENDING, FAILED or SKIPPED carries no expiry: every write
     *                           of such an outcome removes it.
     */
    public DynamoDbReplicationStatusStore(DynamoDbClient dynamo, String table, Clock clock, java.time.Duration completedRetention) {
        this.dynamo = dynamo;
        this.table = table;
        this.clock = clock;
        this.completedRetention = completedRetention == null || completedRetention.isZero() ? null : completedRetention;
        this.pages = new DynamoDbBackfillJobStore(dynamo, table);
    }

    @Override
    public void recordQueued(List<QueuedVersion> versions) {
        AttributeValue pending = outcomeValue(SiteOutcome.pending(clock.instant().toString()));
        List<WriteRequest> puts = new ArrayList<>(versions.size());
        for (QueuedVersion queued : versions) {
            Map<String, AttributeValue> item = new HashMap<>(key(queued.version()));
            item.put("bucket", s(queued.version().bucket()));
            item.put("key", s(queued.version().objectKey()));
            item.put("size", n(queued.size()));
            if (queued.lastModified() != null) {
                item.put("lastModified", s(queued.lastModified()));
            }
            if (queued.deleteMarker()) {
                item.put(DELETE_MARKER, AttributeValue.fromBool(true));
            }
            for (String site : queued.sites()) {
                item.put(SITE_PREFIX + site, pending);
            }
            puts.add(WriteRequest.builder().putRequest(p -> p.item(item)).build());
        }
        // A page of versions is a few dozen requests of 25 (BatchWriteItem's limit), sent a few at a time.
        List<java.util.concurrent.Callable<Void>> batches = new ArrayList<>();
        for (int from = 0; from < puts.size(); from += BATCH_WRITE_LIMIT) {
            List<WriteRequest> batch = puts.subList(from, Math.min(puts.size(), from + BATCH_WRITE_LIMIT));
            batches.add(() -> {
                UnprocessedItems.untilProcessed(Map.of(table, batch),
                        request -> dynamo.batchWriteItem(r -> r.requestItems(request)).unprocessedItems());
                return null;
            });
        }
        io.backbeatserverless.core.concurrent.BoundedTasks.run(batches, 4);
    }

    @Override
    public Transition recordOutcome(StatusEntry outcome, String position) {
        VersionRef version = new VersionRef(outcome.bucket(), outcome.versionKey().objectKey(), outcome.versionKey().versionId());
        SiteOutcome siteOutcome = new SiteOutcome(outcome.status(), outcome.reason(), outcome.attempts(), outcome.bytes(),
                outcome.timestamp() == null ? clock.instant().toString() : outcome.timestamp());
        Map<String, String> names = new HashMap<>(Map.of("#bucket", "bucket", "#key", "key", "#size", "size",
                "#site", SITE_PREFIX + outcome.site(), "#status", "status"));
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":bucket", s(version.bucket()), ":key", s(version.objectKey()),
                ":size", n(outcome.metadata().contentLength()), ":outcome", outcomeValue(siteOutcome, position)));
        StringBuilder update = new StringBuilder("SET #bucket = :bucket, #key = :key, #size = :size, #site = :outcome");
        if (outcome.metadata().isDeleteMarker()) {
            names.put("#dm", DELETE_MARKER);
            values.put(":dm", AttributeValue.fromBool(true));
            update.append(", #dm = :dm");
        }
        if (outcome.metadata().lastModified() != null) {
            names.put("#lm", "lastModified");
            values.put(":lm", s(outcome.metadata().lastModified()));
            update.append(", #lm = if_not_exists(#lm, :lm)");
        }
        // StatusMerge's rule, as the write's condition: the site's status must be one the outcome may replace.
        List<String> replaceable = new ArrayList<>();
        for (ReplicationStatus status : StatusMerge.replaceable(outcome.status())) {
            String name = ":r" + replaceable.size();
            values.put(name, s(status.name()));
            replaceable.add(name);
        }
        String replaceableCondition = "attribute_not_exists(#site)" + (replaceable.isEmpty() ? ""
                : " OR #site.#status IN (" + String.join(", ", replaceable) + ")");
        // ... or one it replaces when older (a failed change of metadata alone over COMPLETED): by the outcomes' times, in
        // epoch milliseconds (a record written before they were kept counts as older).
        boolean metadataOnly = outcome.metadata().replicationInfo().map(ObjectMetadata.ReplicationInfo::isMetadataOnly).orElse(false);
        List<String> ifOlder = new ArrayList<>();
        for (ReplicationStatus status : StatusMerge.replaceableIfOlder(outcome.status(), metadataOnly)) {
            String name = ":o" + ifOlder.size();
            values.put(name, s(status.name()));
            ifOlder.add(name);
        }
        if (!ifOlder.isEmpty()) {
            names.put("#atMs", AT_MILLIS);
            values.put(":atMs", n(atMillis(siteOutcome.updatedAt())));
            replaceableCondition += " OR (#site.#status IN (" + String.join(", ", ifOlder) + ") AND (attribute_not_exists(#site.#atMs) OR #site.#atMs < :atMs))";
        }
        String condition = replaceableCondition;
        // Retention: a record expires once every site of the version's rule has COMPLETED it. With one site, this write says
        // so itself; with more, the write that completes the last one sets it (expireIfAllCompleted); any other outcome
        // removes it, so a record that a retry or a failure reopened is kept.
        boolean completed = outcome.status() == ReplicationStatus.COMPLETED;
        Set<String> ruleSites = ruleSites(outcome);
        names.put("#ttl", TableSchemas.TTL_ATTRIBUTE);
        if (completed && completedRetention != null && ruleSites.equals(Set.of(outcome.site()))) {
            values.put(":ttl", expiry());
            update.append(", #ttl = :ttl");
        } else if (!completed) {
            update.append(" REMOVE #ttl");
        } else {
            names.remove("#ttl");
        }
        try {
            Map<String, AttributeValue> old = dynamo.updateItem(r -> r.tableName(table).key(key(version))
                    .updateExpression(update.toString()).conditionExpression(condition)
                    .expressionAttributeNames(names).expressionAttributeValues(values)
                    .returnValues(software.amazon.awssdk.services.dynamodb.model.ReturnValue.ALL_OLD)).attributes();
            if (completed && completedRetention != null && ruleSites.size() > 1) {
                expireIfAllCompleted(version, ruleSites, outcome.site(), old);
            }
            AttributeValue before = old == null ? null : old.get(SITE_PREFIX + outcome.site());
            boolean again = position != null && before != null && before.m().containsKey("by") && position.equals(before.m().get("by").s());
            return new Transition(before == null ? null : ReplicationStatus.parse(before.m().get("status").s()), outcome.status(), true, again);
        } catch (ConditionalCheckFailedException refused) {
            ReplicationStatus now = find(version).map(v -> v.sites().get(outcome.site()))
                    .map(SiteOutcome::status).orElse(ReplicationStatus.COMPLETED);
            return new Transition(now, now, false);
        }
    }

    /** The sites the version's rule names (its metadata's backends), and the outcome's own. */
    private static Set<String> ruleSites(StatusEntry outcome) {
        Set<String> sites = new HashSet<>();
        outcome.metadata().replicationInfo().ifPresent(info -> info.backends().forEach(b -> sites.add(b.site())));
        sites.add(outcome.site());
        return sites;
    }

    private AttributeValue expiry() {
        return n(clock.instant().plus(completedRetention).getEpochSecond());
    }

    /**
     * After {@code site}'s COMPLETED: when the record's other rule sites were COMPLETED already, the record's expiry, on the
     * condition that all still are (a retry or a failure of one in between reopened it, and its write removed the expiry).
     */
    private void expireIfAllCompleted(VersionRef version, Set<String> ruleSites, String site, Map<String, AttributeValue> old) {
        Map<String, String> names = new HashMap<>(Map.of("#ttl", TableSchemas.TTL_ATTRIBUTE, "#status", "status"));
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":ttl", expiry(), ":completed", s(ReplicationStatus.COMPLETED.name())));
        List<String> conditions = new ArrayList<>();
        for (String other : ruleSites) {
            AttributeValue recorded = old == null ? null : old.get(SITE_PREFIX + other);
            if (!other.equals(site) && (recorded == null || !ReplicationStatus.COMPLETED.name().equals(recorded.m().get("status").s()))) {
                return;
            }
            String name = "#s" + conditions.size();
            names.put(name, SITE_PREFIX + other);
            conditions.add(name + ".#status = :completed");
        }
        try {
            dynamo.updateItem(r -> r.tableName(table).key(key(version)).updateExpression("SET #ttl = :ttl")
                    .conditionExpression(String.join(" AND ", conditions)).expressionAttributeNames(names).expressionAttributeValues(values));
        } catch (ConditionalCheckFailedException reopened) {
            // a site's retry or failure came in between: the record stays
        }
    }

    /*
     * Lookups answer for the versions of backfill pages too (issue 29): a page's version has no record of its own unless
     * a site did not complete it (or the live path queued it as well); what the page says counts for each site its own
     * record does not name.
     */

    @Override
    public Optional<VersionStatus> find(VersionRef version) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).key(key(version)).consistentRead(true)).item();
        VersionStatus own = item == null || item.isEmpty() ? null : toStatus(item);
        VersionStatus paged = pages.statusesOf(version.bucket(), Set.of(version.objectKey()))
                .get(io.backbeatserverless.core.backfill.BackfillPage.PageVersion.ref(version.objectKey(), version.versionId()));
        return Optional.ofNullable(merged(own, paged));
    }

    @Override
    public List<VersionStatus> findVersions(String bucket, String objectKey) {
        Map<String, VersionStatus> byVersion = new LinkedHashMap<>();
        QueryRequest query = QueryRequest.builder().tableName(table).consistentRead(true)
                .keyConditionExpression("#pk = :pk").expressionAttributeNames(Map.of("#pk", TableSchemas.STATUS_PK))
                .expressionAttributeValues(Map.of(":pk", s(bucket + "/" + objectKey))).build();
        dynamo.queryPaginator(query).items().forEach(item -> {
            VersionStatus status = toStatus(item);
            byVersion.put(status.versionId(), status);
        });
        pages.statusesOf(bucket, Set.of(objectKey)).values().forEach(paged -> byVersion.merge(paged.versionId(), paged,
                (own, page) -> merged(own, page)));
        return new ArrayList<>(byVersion.values());
    }

    @Override
    public Set<VersionRef> recorded(Collection<VersionRef> versions) {
        Set<VersionRef> found = new HashSet<>();
        batchGet(versions, "#pk, #sk, #bucket, #key", item -> found.add(new VersionRef(
                item.get("bucket").s(), item.get("key").s(), item.get(TableSchemas.STATUS_SK).s())));
        found.addAll(paged(versions).keySet());
        return found;
    }

    @Override
    public Map<VersionRef, VersionStatus> findAll(Collection<VersionRef> versions) {
        Map<VersionRef, VersionStatus> found = new HashMap<>();
        batchGet(versions, null, item -> {
            VersionStatus status = toStatus(item);
            found.put(new VersionRef(status.bucket(), status.objectKey(), status.versionId()), status);
        });
        paged(versions).forEach((ref, page) -> found.merge(ref, page, (own, p) -> merged(own, p)));
        return found;
    }

    /** What backfill pages say of these versions (one page query per bucket). */
    private Map<VersionRef, VersionStatus> paged(Collection<VersionRef> versions) {
        Map<String, Set<String>> keysByBucket = new HashMap<>();
        versions.forEach(v -> keysByBucket.computeIfAbsent(v.bucket(), b -> new HashSet<>()).add(v.objectKey()));
        Set<VersionRef> wanted = Set.copyOf(versions);
        Map<VersionRef, VersionStatus> found = new HashMap<>();
        keysByBucket.forEach((bucket, keys) -> pages.statusesOf(bucket, keys).values().forEach(status -> {
            VersionRef ref = new VersionRef(bucket, status.objectKey(), status.versionId());
            if (wanted.contains(ref)) {
                found.put(ref, status);
            }
        }));
        return found;
    }

    /** A version's own record, with what its page says for the sites the record does not name. */
    private static VersionStatus merged(VersionStatus own, VersionStatus paged) {
        if (own == null || paged == null) {
            return own == null ? paged : own;
        }
        Map<String, SiteOutcome> sites = new LinkedHashMap<>(paged.sites());
        sites.putAll(own.sites());
        return new VersionStatus(own.bucket(), own.objectKey(), own.versionId(), own.size(),
                own.lastModified() != null ? own.lastModified() : paged.lastModified(), sites, own.deleteMarker() || paged.deleteMarker());
    }

    /** Reads the items of {@code versions}, 100 keys a request, until none is left unprocessed. */
    private void batchGet(Collection<VersionRef> versions, String projection, java.util.function.Consumer<Map<String, AttributeValue>> each) {
        List<VersionRef> all = List.copyOf(new java.util.LinkedHashSet<>(versions));
        for (int from = 0; from < all.size(); from += BATCH_GET_LIMIT) {
            List<Map<String, AttributeValue>> keys = all.subList(from, Math.min(all.size(), from + BATCH_GET_LIMIT))
                    .stream().map(DynamoDbReplicationStatusStore::key).toList();
            KeysAndAttributes.Builder wanted = KeysAndAttributes.builder().keys(keys).consistentRead(true);
            if (projection != null) {
                wanted.projectionExpression(projection).expressionAttributeNames(Map.of("#pk", TableSchemas.STATUS_PK,
                        "#sk", TableSchemas.STATUS_SK, "#bucket", "bucket", "#key", "key"));
            }
            UnprocessedItems.untilProcessed(Map.of(table, wanted.build()), request -> {
                BatchGetItemResponse response = dynamo.batchGetItem(r -> r.requestItems(request));
                response.responses().getOrDefault(table, List.of()).forEach(each);
                return response.unprocessedKeys();
            });
        }
    }

    private static VersionStatus toStatus(Map<String, AttributeValue> item) {
        Map<String, SiteOutcome> sites = new LinkedHashMap<>();
        item.forEach((name, value) -> {
            if (name.startsWith(SITE_PREFIX)) {
                Map<String, AttributeValue> m = value.m();
                sites.put(name.substring(SITE_PREFIX.length()), new SiteOutcome(
                        ReplicationStatus.parse(m.get("status").s()),
                        m.containsKey("reason") ? m.get("reason").s() : null,
                        m.containsKey("attempts") ? Integer.parseInt(m.get("attempts").n()) : 0,
                        m.containsKey("bytes") ? Long.parseLong(m.get("bytes").n()) : 0,
                        m.containsKey("updatedAt") ? m.get("updatedAt").s() : null));
            }
        });
        return new VersionStatus(item.get("bucket").s(), item.get("key").s(), item.get(TableSchemas.STATUS_SK).s(),
                item.containsKey("size") ? Long.parseLong(item.get("size").n()) : 0,
                item.containsKey("lastModified") ? item.get("lastModified").s() : null, sites,
                item.containsKey(DELETE_MARKER) && Boolean.TRUE.equals(item.get(DELETE_MARKER).bool()));
    }

    private static AttributeValue outcomeValue(SiteOutcome outcome) {
        return outcomeValue(outcome, null);
    }

    /** The site's map attribute; {@code by}: the status-topic position of the outcome, when it came from there. */
    private static AttributeValue outcomeValue(SiteOutcome outcome, String by) {
        Map<String, AttributeValue> m = new HashMap<>();
        if (by != null) {
            m.put("by", s(by));
        }
        m.put("status", s(outcome.status().name()));
        if (outcome.reason() != null) {
            m.put("reason", s(outcome.reason()));
        }
        m.put("attempts", n(outcome.attempts()));
        m.put("bytes", n(outcome.bytes()));
        if (outcome.updatedAt() != null) {
            m.put("updatedAt", s(outcome.updatedAt()));
            m.put(AT_MILLIS, n(atMillis(outcome.updatedAt())));
        }
        return AttributeValue.fromM(m);
    }

    /** Set on a delete marker's record: a forced retry rebuilds its entry from the record (issue 28). */
    private static final String DELETE_MARKER = "deleteMarker";

    /** The outcome's time as a number, which a condition can compare (ISO-8601 text of varying precision cannot). */
    private static final String AT_MILLIS = "atMs";

    private static long atMillis(String isoInstant) {
        return java.time.Instant.parse(isoInstant).toEpochMilli();
    }

    private static Map<String, AttributeValue> key(VersionRef version) {
        return Map.of(TableSchemas.STATUS_PK, s(version.bucket() + "/" + version.objectKey()),
                TableSchemas.STATUS_SK, s(version.versionId()));
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }
}
