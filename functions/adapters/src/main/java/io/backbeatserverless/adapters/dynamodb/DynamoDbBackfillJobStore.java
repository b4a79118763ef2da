package io.backbeatserverless.adapters.dynamodb;

import io.backbeatserverless.core.backfill.BackfillJob;
import io.backbeatserverless.core.backfill.BackfillJobStore;
import io.backbeatserverless.core.backfill.BackfillPage;
import io.backbeatserverless.core.backfill.PageOutcome;
import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.SiteOutcome;
import io.backbeatserverless.core.status.VersionStatus;
import io.backbeatserverless.core.versions.KeyVersions;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * {@link BackfillJobStore} on DynamoDB, in the status table, beside the versions' own records (whose partition is
 * {@code bucket/key}: a bucket name never starts with {@code #}, so these never meet one):
 * <ul>
 *   <li>a job: partition {@value #JOBS}, sort key its id (which sorts by creation time);</li>
 *   <li>a page: partition {@code #pages/<bucket>}, sort key its last key, then its job and number, so that the pages
 *       covering a key are the first ones at or after it; its versions (gzipped lines: key, version id, size, last
 *       modified, delete marker, sites) in an item of their own under the same sort key in {@code #pageversions/<bucket>},
 *       read only for the pages a lookup needs (a query reads whole items). The page holds, per site, what that site
 *       answered: {@code tok:<site>} the parts
 *       counted, {@code pend:<site>} the versions still put back, {@code notc:<site>} those not COMPLETED
 *       there (their own records say why);</li>
 *   <li>a job's counters per site and thousand pages: partition {@code #backfill/<job>}, sort key
 *       {@code <site>/<thousands>}, with the parts counted, so that an outcome delivered again counts nothing twice and
 *       no item grows past a thousand tokens.</li>
 * </ul>
 */
public final class DynamoDbBackfillJobStore implements BackfillJobStore {

    static final String JOBS = "#backfill";
    private static final String PAGES = "#pages/";
    private static final String PAGE_VERSIONS = "#pageversions/";
    private static final String COUNTERS = "#backfill/";
    /** On a page: the source was told of the versions that site completed (a CloudServer source's write-back). */
    private static final String TOLD = "told:";
    private static final char AFTER_KEY = '\u0001';

    private final DynamoDbClient dynamo;
    private final String table;
    private final java.time.Duration answeredRetention;
    private final java.time.Clock clock;

    public DynamoDbBackfillJobStore(DynamoDbClient dynamo, String table) {
        this(dynamo, table, null, java.time.Clock.systemUTC());
    }

    /**
     * @param answeredRetention how long a page's items are kept once every site it goes to has answered it whole (the
     *                          table's TTL attribute removes them then), as a version's record is kept once COMPLETED
     *                          everywhere (ops.statusRetentionDays); its versions not COMPLETED have records of their own.
     *                          Null: kept for ever
     */
    public DynamoDbBackfillJobStore(DynamoDbClient dynamo, String table, java.time.Duration answeredRetention, java.time.Clock clock) {
        this.dynamo = dynamo;
        this.table = table;
        this.answeredRetention = answeredRetention == null || answeredRetention.isZero() ? null : answeredRetention;
        this.clock = clock;
    }

    @Override
    public boolean create(BackfillJob job) {
        Map<String, AttributeValue> item = new HashMap<>(key(JOBS, job.id()));
        item.put("bucket", s(job.bucket()));
        if (job.prefix() != null && !job.prefix().isEmpty()) {
            item.put("prefix", s(job.prefix()));
        }
        item.put("sites", AttributeValue.fromL(job.sites().stream().map(DynamoDbBackfillJobStore::s).toList()));
        item.put("state", s(job.state().name()));
        item.put("createdAt", s(job.createdAt()));
        item.put("pagesListed", n(0));
        item.put("scanned", n(0));
        item.put("queued", n(0));
        try {
            dynamo.putItem(r -> r.tableName(table).item(item).conditionExpression("attribute_not_exists(#pk)")
                    .expressionAttributeNames(Map.of("#pk", TableSchemas.STATUS_PK)));
            return true;
        } catch (ConditionalCheckFailedException exists) {
            return false;
        }
    }

    @Override
    public Optional<BackfillJob> find(String id) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).key(key(JOBS, id)).consistentRead(true)).item();
        if (item == null || item.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(toJob(item).withSites(progress(id)));
    }

    @Override
    public List<BackfillJob> list(int limit) {
        // The newest first, one page of them: the partition keeps every job.
        QueryRequest query = QueryRequest.builder().tableName(table).consistentRead(true).scanIndexForward(false).limit(limit)
                .keyConditionExpression("#pk = :pk").expressionAttributeNames(Map.of("#pk", TableSchemas.STATUS_PK))
                .expressionAttributeValues(Map.of(":pk", s(JOBS))).build();
        return withProgress(dynamo.query(query).items());
    }

    @Override
    public List<BackfillJob> withIdsStartingWith(String prefix) {
        QueryRequest query = QueryRequest.builder().tableName(table).consistentRead(true)
                .keyConditionExpression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expressionAttributeNames(Map.of("#pk", TableSchemas.STATUS_PK, "#sk", TableSchemas.STATUS_SK))
                .expressionAttributeValues(Map.of(":pk", s(JOBS), ":prefix", s(prefix))).build();
        return withProgress(dynamo.queryPaginator(query).items());
    }

    /** Job items read, each with its sites' progress (a query of its counters). */
    private List<BackfillJob> withProgress(Iterable<Map<String, AttributeValue>> items) {
        List<BackfillJob> jobs = new ArrayList<>();
        items.forEach(item -> jobs.add(toJob(item).withSites(progress(item.get(TableSchemas.STATUS_SK).s()))));
        return jobs;
    }

    @Override
    public List<BackfillJob> listing() {
        List<BackfillJob> jobs = new ArrayList<>();
        for (Map<String, AttributeValue> item : query(JOBS, true)) {
            if (BackfillJob.State.LISTING.name().equals(item.get("state").s())) {
                jobs.add(toJob(item));
            }
        }
        return jobs;
    }

    @Override
    public void savePage(BackfillPage page) {
        ReplicationConfiguration rules = page.configuration();
        StringBuilder lines = new StringBuilder(page.versions().size() * 80);
        for (BackfillPage.PageVersion v : page.versions()) {
            lines.append(v.key()).append('\t').append(v.versionId()).append('\t').append(v.size()).append('\t')
                    .append(v.lastModified() == null ? "" : v.lastModified()).append('\t').append(v.deleteMarker() ? "1" : "0").append('\t')
                    .append(String.join(",", rules.rules().get(v.rule()).sites())).append('\t').append(v.rule()).append('\n');
        }
        String sortKey = pageSortKey(page.throughKey(), page.jobId(), page.number());
        // The versions apart from the page's index item, which lookups query: a query reads (and is billed for) whole items,
        // and only the pages that cover a key need their versions (GetItem, written first).
        putIfAbsent(Map.of(TableSchemas.STATUS_PK, s(PAGE_VERSIONS + page.bucket()), TableSchemas.STATUS_SK, s(sortKey),
                "versions", AttributeValue.fromB(SdkBytes.fromByteArray(gzip(lines.toString())))));
        Map<String, AttributeValue> item = new HashMap<>(key(PAGES + page.bucket(), sortKey));
        item.put("job", s(page.jobId()));
        item.put("page", n(page.number()));
        if (page.afterKey() != null) {
            item.put("afterKey", s(page.afterKey()));
        }
        item.put("throughKey", s(page.throughKey()));
        item.put("sites", AttributeValue.fromL(page.sites().stream().map(DynamoDbBackfillJobStore::s).toList()));
        if (page.listedAt() != null) {
            item.put("listedAt", s(page.listedAt()));
        }
        item.put("rules", s(page.rules())); // a few hundred bytes a page: what a source keeping statuses itself is told (completedUntold)
        putIfAbsent(item);
    }

    /** Listed again (the populator died before moving the job's cursor): the page's record stands, answers and all. */
    private void putIfAbsent(Map<String, AttributeValue> item) {
        try {
            dynamo.putItem(r -> r.tableName(table).item(item).conditionExpression("attribute_not_exists(#pk)")
                    .expressionAttributeNames(Map.of("#pk", TableSchemas.STATUS_PK)));
        } catch (ConditionalCheckFailedException alreadyThere) {
            // kept
        }
    }

    @Override
    public boolean advance(BackfillJob job, String cursor, List<BackfillPage> pages, long scanned, boolean done, String at, List<String> sites) {
        String expectedCursor = job.cursor();
        Map<String, String> names = new HashMap<>(Map.of("#cursor", "cursor", "#scanned", "scanned", "#state", "state"));
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":scanned", n(scanned), ":listing", s(BackfillJob.State.LISTING.name())));
        StringBuilder update = new StringBuilder("ADD #scanned :scanned");
        if (!pages.isEmpty()) {
            names.put("#pages", "pagesListed");
            names.put("#queued", "queued");
            values.put(":pages", n(pages.size()));
            values.put(":queued", n(pages.stream().mapToLong(p -> p.versions().size()).sum()));
            update.append(", #pages :pages, #queued :queued");
        }
        List<String> sets = new ArrayList<>();
        if (job.sites().isEmpty() && !sites.isEmpty()) {
            names.put("#sites", "sites");
            values.put(":sites", AttributeValue.fromL(sites.stream().map(DynamoDbBackfillJobStore::s).toList()));
            sets.add("#sites = :sites");
        }
        if (cursor != null) {
            values.put(":cursor", s(cursor));
            sets.add("#cursor = :cursor");
        }
        if (done) {
            names.put("#listedAt", "listedAt");
            values.put(":listedAt", s(at));
            values.put(":listed", s(BackfillJob.State.LISTED.name()));
            sets.add("#listedAt = :listedAt");
            sets.add("#state = :listed");
        }
        if (!sets.isEmpty()) {
            update.append(" SET ").append(String.join(", ", sets));
        }
        String condition = "#state = :listing AND " + (expectedCursor == null ? "attribute_not_exists(#cursor)" : "#cursor = :expected");
        if (expectedCursor != null) {
            values.put(":expected", s(expectedCursor));
        }
        try {
            dynamo.updateItem(r -> r.tableName(table).key(key(JOBS, job.id())).updateExpression(update.toString())
                    .conditionExpression(condition).expressionAttributeNames(names).expressionAttributeValues(values));
            return true;
        } catch (ConditionalCheckFailedException moved) {
            return false;
        }
    }

    @Override
    public void fail(BackfillJob job, String reason) {
        dynamo.updateItem(r -> r.tableName(table).key(key(JOBS, job.id())).updateExpression("SET #state = :failed, #error = :error")
                .expressionAttributeNames(Map.of("#state", "state", "#error", "error"))
                .expressionAttributeValues(Map.of(":failed", s(BackfillJob.State.FAILED.name()), ":error", s(reason))));
    }

    @Override
    public boolean recordOutcome(PageOutcome outcome) {
        // The page first (what status lookups read), then the job's counters: each takes a part once, so a batch cut short
        // between the two and delivered again completes the second.
        boolean pageNew = recordOnPage(outcome);
        boolean countedNew = count(outcome);
        return pageNew || countedNew;
    }

    private boolean recordOnPage(PageOutcome outcome) {
        String site = outcome.site();
        Map<String, AttributeValue> pageKey = key(PAGES + outcome.bucket(), pageSortKey(outcome.throughKey(), outcome.jobId(), outcome.number()));
        Map<String, String> names = new HashMap<>(Map.of("#tok", "tok:" + site, "#pend", "pend:" + site, "#at", "at:" + site));
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":token", s(outcome.token()), ":tokens", ss(List.of(outcome.token())),
                ":at", s(outcome.timestamp() == null ? "" : outcome.timestamp())));
        StringBuilder add = new StringBuilder("ADD #tok :tokens");
        if (!outcome.notCompleted().isEmpty()) {
            names.put("#notc", "notc:" + site);
            values.put(":notc", ss(outcome.notCompleted()));
            add.append(", #notc :notc");
        }
        StringBuilder update = new StringBuilder(add);
        if (outcome.remaining().isEmpty()) {
            update.append(" SET #at = :at REMOVE #pend");
        } else {
            values.put(":pend", ss(outcome.remaining()));
            update.append(" SET #at = :at, #pend = :pend");
        }
        try {
            // On a page that exists (a page never saved, its job removed, is read by no one).
            names.put("#pk", TableSchemas.STATUS_PK);
            Map<String, AttributeValue> page = dynamo.updateItem(r -> r.tableName(table).key(pageKey).updateExpression(update.toString())
                    .conditionExpression("attribute_exists(#pk) AND (attribute_not_exists(#tok) OR NOT contains(#tok, :token))")
                    .expressionAttributeNames(names).expressionAttributeValues(values).returnValues(ReturnValue.ALL_NEW)).attributes();
            expireIfAnswered(outcome, pageKey, page);
            return true;
        } catch (ConditionalCheckFailedException already) {
            if (outcome.last() && answeredRetention != null) {
                // Delivered again: the expiry may be what the first delivery did not get to.
                expireIfAnswered(outcome, pageKey, dynamo.getItem(r -> r.tableName(table).key(pageKey).consistentRead(true)).item());
            }
            return false;
        }
    }

    /**
     * A page every site of it has answered whole (no part put back) expires with its versions' item after the retention:
     * what it says of its versions is then as old as a completed version's record is when that expires.
     */
    private void expireIfAnswered(PageOutcome outcome, Map<String, AttributeValue> pageKey, Map<String, AttributeValue> page) {
        if (answeredRetention == null || !outcome.last() || page == null || page.isEmpty() || page.containsKey(TableSchemas.TTL_ATTRIBUTE)
                || !page.containsKey("sites")) {
            return;
        }
        for (AttributeValue site : page.get("sites").l()) {
            if (!page.containsKey("tok:" + site.s()) || page.containsKey("pend:" + site.s())) {
                return;
            }
        }
        AttributeValue expiry = n(clock.instant().plus(answeredRetention).getEpochSecond());
        for (Map<String, AttributeValue> item : List.of(key(PAGE_VERSIONS + outcome.bucket(), pageKey.get(TableSchemas.STATUS_SK).s()), pageKey)) {
            try {
                dynamo.updateItem(r -> r.tableName(table).key(item).updateExpression("SET #ttl = :ttl").conditionExpression("attribute_exists(#pk)")
                        .expressionAttributeNames(Map.of("#ttl", TableSchemas.TTL_ATTRIBUTE, "#pk", TableSchemas.STATUS_PK))
                        .expressionAttributeValues(Map.of(":ttl", expiry)));
            } catch (ConditionalCheckFailedException gone) {
                // never written (a populator died between the two), or removed: nothing to expire
            }
        }
    }

    private boolean count(PageOutcome outcome) {
        String sortKey = outcome.site() + "/" + String.format("%09d", outcome.number() / 1000);
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":token", s(outcome.token()), ":tokens", ss(List.of(outcome.token())),
                ":done", n(outcome.last() ? 1 : 0), ":completed", n(outcome.completed()), ":bytes", n(outcome.completedBytes()),
                ":failed", n(outcome.failed()), ":skipped", n(outcome.skipped())));
        try {
            dynamo.updateItem(r -> r.tableName(table).key(key(COUNTERS + outcome.jobId(), sortKey))
                    .updateExpression("ADD #tok :tokens, pagesDone :done, completed :completed, completedBytes :bytes, failed :failed, skipped :skipped")
                    .conditionExpression("attribute_not_exists(#tok) OR NOT contains(#tok, :token)")
                    .expressionAttributeNames(Map.of("#tok", "tokens")).expressionAttributeValues(values));
            return true;
        } catch (ConditionalCheckFailedException already) {
            return false;
        }
    }

    private Map<String, BackfillJob.SiteProgress> progress(String jobId) {
        Map<String, BackfillJob.SiteProgress> bySite = new TreeMap<>();
        for (Map<String, AttributeValue> item : query(COUNTERS + jobId, true)) {
            String sortKey = item.get(TableSchemas.STATUS_SK).s();
            String site = sortKey.substring(0, sortKey.lastIndexOf('/'));
            bySite.merge(site, new BackfillJob.SiteProgress(num(item, "pagesDone"), num(item, "completed"), num(item, "completedBytes"),
                    num(item, "failed"), num(item, "skipped")), BackfillJob.SiteProgress::plus);
        }
        return bySite;
    }

    /** One page as stored: its range, its versions and each site's answers so far. */
    public record StoredPage(String jobId, long number, String afterKey, String throughKey, Map<String, Line> versions,
                             Map<String, SiteAnswer> answers) {

        boolean covers(String key) {
            return (afterKey == null || KeyVersions.KEY_ORDER.compare(afterKey, key) < 0) && KeyVersions.KEY_ORDER.compare(key, throughKey) <= 0;
        }

        /** What the page says of one of its versions, at each site its rule names. */
        public VersionStatus statusOf(String bucket, Line line) {
            Map<String, SiteOutcome> sites = new LinkedHashMap<>();
            String ref = BackfillPage.PageVersion.ref(line.key(), line.versionId());
            for (String site : line.sites()) {
                SiteAnswer answer = answers.get(site);
                boolean completed = answer != null && !answer.pending().contains(ref) && !answer.notCompleted().contains(ref);
                sites.put(site, completed ? new SiteOutcome(ReplicationStatus.COMPLETED, null, 1, line.size(), answer.at())
                        : SiteOutcome.pending(answer == null ? line.lastModified() : answer.at()));
            }
            return new VersionStatus(bucket, line.key(), line.versionId(), line.size(), line.lastModified(), sites, line.deleteMarker());
        }
    }

    /** A version of a stored page; {@code rule}: its index in the page's rules (-1 on a page stored before they were kept). */
    public record Line(String key, String versionId, long size, String lastModified, boolean deleteMarker, List<String> sites, int rule) {
    }

    /** What one site answered for a page: its parts' time, versions still put back, versions not COMPLETED. */
    public record SiteAnswer(String at, Set<String> pending, Set<String> notCompleted) {
    }

    /**
     * The stored pages of {@code bucket} that cover keys from {@code fromKey} to {@code toKey}: for each job, its pages
     * from the one holding {@code fromKey} on, until one reaches {@code toKey}. Jobs of a bucket are few; a lookup
     * reads the pages it needs and the first page of each other job past them.
     */
    public List<StoredPage> pagesCovering(String bucket, String fromKey, String toKey) {
        QueryRequest query = QueryRequest.builder().tableName(table).consistentRead(true)
                .keyConditionExpression("#pk = :pk AND #sk >= :from")
                .expressionAttributeNames(Map.of("#pk", TableSchemas.STATUS_PK, "#sk", TableSchemas.STATUS_SK))
                .expressionAttributeValues(Map.of(":pk", s(PAGES + bucket), ":from", s(sortable(fromKey)))).build();
        List<StoredPage> pages = new ArrayList<>();
        // A job's pages past toKey, by the throughKey of the first: the pages of one listing page (one per partition, all
        // of its range) share it, and each holds keys of that range.
        Map<String, String> jobsPast = new HashMap<>();
        Set<String> jobsSeen = new HashSet<>();
        int sinceLastNewJob = 0;
        for (Map<String, AttributeValue> item : dynamo.queryPaginator(query).items()) {
            String job = item.get("job").s();
            if (jobsPast.containsKey(job) && !jobsPast.get(job).equals(item.get("throughKey").s())) {
                // A job whose pages went past toKey: any page after is another job's, or nothing, once no new job shows up.
                if (++sinceLastNewJob > 100) {
                    break;
                }
                continue;
            }
            if (jobsSeen.add(job)) {
                sinceLastNewJob = 0;
            }
            String throughKey = item.get("throughKey").s();
            String afterKey = item.containsKey("afterKey") ? item.get("afterKey").s() : null;
            if (KeyVersions.KEY_ORDER.compare(throughKey, fromKey) < 0) {
                continue; // before fromKey, listed only because its last key was cut to the same start
            }
            if (afterKey == null || KeyVersions.KEY_ORDER.compare(afterKey, toKey) < 0) {
                pages.add(toPage(item, versionsOf(bucket, item.get(TableSchemas.STATUS_SK).s())));
            }
            if (KeyVersions.KEY_ORDER.compare(throughKey, toKey) >= 0) {
                jobsPast.putIfAbsent(job, throughKey);
            }
        }
        return pages;
    }

    @Override
    public Optional<BackfillPage> completedUntold(PageOutcome outcome) {
        String sortKey = pageSortKey(outcome.throughKey(), outcome.jobId(), outcome.number());
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(key(PAGES + outcome.bucket(), sortKey))).item();
        if (item == null || !item.containsKey("job") || !item.containsKey("rules") || item.containsKey(TOLD + outcome.site())) {
            return Optional.empty(); // never saved (its job removed), saved before pages kept their rules, or told already
        }
        StoredPage stored = toPage(item, versionsOf(outcome.bucket(), sortKey));
        SiteAnswer answer = stored.answers().get(outcome.site());
        if (answer == null) {
            return Optional.empty();
        }
        List<BackfillPage.PageVersion> completed = new ArrayList<>();
        stored.versions().forEach((ref, line) -> {
            if (line.rule() >= 0 && line.sites().contains(outcome.site()) && !answer.pending().contains(ref) && !answer.notCompleted().contains(ref)) {
                completed.add(new BackfillPage.PageVersion(line.key(), line.versionId(), line.size(), null, line.lastModified(),
                        line.deleteMarker(), line.rule(), Map.of()));
            }
        });
        return Optional.of(new BackfillPage(stored.jobId(), stored.number(), 0, outcome.bucket(), null, stored.afterKey(), stored.throughKey(),
                List.of(outcome.site()), item.get("rules").s(), completed, str(item, "listedAt")));
    }

    @Override
    public void sourceTold(PageOutcome outcome) {
        String sortKey = pageSortKey(outcome.throughKey(), outcome.jobId(), outcome.number());
        try {
            dynamo.updateItem(r -> r.tableName(table).key(key(PAGES + outcome.bucket(), sortKey)).updateExpression("SET #told = :at")
                    .conditionExpression("attribute_exists(#pk)")
                    .expressionAttributeNames(Map.of("#told", TOLD + outcome.site(), "#pk", TableSchemas.STATUS_PK))
                    .expressionAttributeValues(Map.of(":at", s(outcome.timestamp() == null ? "" : outcome.timestamp()))));
        } catch (ConditionalCheckFailedException gone) {
            // the page's job was removed meanwhile: nothing to note
        }
    }

    /** The versions of stored pages covering these keys, by reference, newest job's page last. */
    public Map<String, VersionStatus> statusesOf(String bucket, Set<String> keys) {
        if (keys.isEmpty()) {
            return Map.of();
        }
        List<String> sorted = keys.stream().sorted(KeyVersions.KEY_ORDER).toList();
        Map<String, VersionStatus> found = new HashMap<>();
        for (StoredPage page : pagesCovering(bucket, sorted.getFirst(), sorted.getLast())) {
            for (Line line : page.versions().values()) {
                if (keys.contains(line.key())) {
                    found.put(BackfillPage.PageVersion.ref(line.key(), line.versionId()), page.statusOf(bucket, line));
                }
            }
        }
        return found;
    }

    /** A page's versions, gzipped lines (empty for a page whose versions were never written: a populator died between). */
    private byte[] versionsOf(String bucket, String sortKey) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of(TableSchemas.STATUS_PK, s(PAGE_VERSIONS + bucket), TableSchemas.STATUS_SK, s(sortKey)))).item();
        return item == null || !item.containsKey("versions") ? gzip("") : item.get("versions").b().asByteArray();
    }

    private static StoredPage toPage(Map<String, AttributeValue> item, byte[] gzippedVersions) {
        Map<String, Line> versions = new LinkedHashMap<>();
        for (String line : gunzip(gzippedVersions).split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            versions.put(BackfillPage.PageVersion.ref(f[0], f[1]), new Line(f[0], f[1], Long.parseLong(f[2]), f[3].isEmpty() ? null : f[3],
                    "1".equals(f[4]), f[5].isEmpty() ? List.of() : List.of(f[5].split(",")), f.length > 6 ? Integer.parseInt(f[6]) : -1));
        }
        Map<String, SiteAnswer> answers = new HashMap<>();
        item.forEach((name, value) -> {
            if (name.startsWith("tok:")) {
                String site = name.substring(4);
                AttributeValue at = item.get("at:" + site);
                AttributeValue pend = item.get("pend:" + site);
                AttributeValue notc = item.get("notc:" + site);
                answers.put(site, new SiteAnswer(at == null ? null : at.s(), pend == null ? Set.of() : Set.copyOf(pend.ss()),
                        notc == null ? Set.of() : Set.copyOf(notc.ss())));
            }
        });
        return new StoredPage(item.get("job").s(), Long.parseLong(item.get("page").n()), item.containsKey("afterKey") ? item.get("afterKey").s() : null,
                item.get("throughKey").s(), versions, answers);
    }

    private List<Map<String, AttributeValue>> query(String partition, boolean forward) {
        QueryRequest query = QueryRequest.builder().tableName(table).consistentRead(true).scanIndexForward(forward)
                .keyConditionExpression("#pk = :pk").expressionAttributeNames(Map.of("#pk", TableSchemas.STATUS_PK))
                .expressionAttributeValues(Map.of(":pk", s(partition))).build();
        List<Map<String, AttributeValue>> items = new ArrayList<>();
        dynamo.queryPaginator(query).items().forEach(items::add);
        return items;
    }

    private static BackfillJob toJob(Map<String, AttributeValue> item) {
        List<String> sites = item.containsKey("sites") ? item.get("sites").l().stream().map(AttributeValue::s).toList() : List.of();
        return new BackfillJob(item.get(TableSchemas.STATUS_SK).s(), item.get("bucket").s(), str(item, "prefix"), sites,
                BackfillJob.State.valueOf(item.get("state").s()), str(item, "createdAt"), str(item, "cursor"), num(item, "pagesListed"),
                num(item, "scanned"), num(item, "queued"), str(item, "listedAt"), Map.of(), str(item, "error"));
    }

    /**
     * A page's sort key: its last key, cut to {@value #SORTED_KEY_BYTES} bytes (an object key may have 1,024, and so may a
     * sort key in all), then its job and number. Cutting keeps the order (a key after another is not cut before it), so
     * the pages covering a key are still found from the cut key on; {@link StoredPage#covers} decides on the whole keys.
     */
    static String pageSortKey(String throughKey, String jobId, long number) {
        return sortable(throughKey) + AFTER_KEY + jobId + "/" + String.format("%012d", number);
    }

    private static final int SORTED_KEY_BYTES = 800;

    private static String sortable(String key) {
        byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= SORTED_KEY_BYTES) {
            return key;
        }
        int end = SORTED_KEY_BYTES;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
            end--; // not inside a character
        }
        return new String(utf8, 0, end, StandardCharsets.UTF_8);
    }

    private static byte[] gzip(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
            zip.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String gunzip(byte[] bytes) {
        try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(bytes))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, AttributeValue> key(String partition, String sortKey) {
        return Map.of(TableSchemas.STATUS_PK, s(partition), TableSchemas.STATUS_SK, s(sortKey));
    }

    private static String str(Map<String, AttributeValue> item, String name) {
        AttributeValue v = item.get(name);
        return v == null ? null : v.s();
    }

    private static long num(Map<String, AttributeValue> item, String name) {
        AttributeValue v = item.get(name);
        return v == null || v.n() == null ? 0 : Long.parseLong(v.n());
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }

    private static AttributeValue ss(java.util.Collection<String> values) {
        return AttributeValue.fromSs(List.copyOf(new java.util.LinkedHashSet<>(values)));
    }
}
