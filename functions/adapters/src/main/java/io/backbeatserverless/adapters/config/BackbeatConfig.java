package io.backbeatserverless.adapters.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The one configuration of a deployment: Kafka, the source and its feed, the destination sites,
 * DynamoDB and its tables, and the event source settings. The embedded stack reads it from
 * {@code localstack/backbeat.json}; Lambda functions and the populator container from the file named by
 * {@code BACKBEAT_CONFIG} or the JSON in {@code BACKBEAT_CONFIG_JSON}. See docs/configuration.md.
 */
public record BackbeatConfig(KafkaSettings kafka, SourceConfig source, List<SiteConfig> sites,
                             DynamoDbSettings dynamodb, EventSourceSettings eventSource, ReplicatorSettings replicator,
                             OpsSettings ops, EventSettings events) {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    public BackbeatConfig {
        if (kafka == null) {
            throw new IllegalArgumentException("configuration has no 'kafka' section");
        }
        if (source == null) {
            throw new IllegalArgumentException("configuration has no 'source' section");
        }
        if (sites == null || sites.isEmpty()) {
            throw new IllegalArgumentException("configuration has no destination 'sites'");
        }
        if (dynamodb == null) {
            throw new IllegalArgumentException("configuration has no 'dynamodb' section");
        }
        sites = List.copyOf(sites);
        eventSource = eventSource == null ? EventSourceSettings.DEFAULTS : eventSource;
        replicator = replicator == null ? ReplicatorSettings.DEFAULTS : replicator;
        ops = ops == null ? OpsSettings.DEFAULTS : ops;
        events = events == null ? EventSettings.DEFAULTS : events;
        if (sites.stream().map(SiteConfig::name).distinct().count() != sites.size()) {
            throw new IllegalArgumentException("two sites share a name");
        }
        if (ops.verifyInventory() != null) {
            List<String> names = sites.stream().map(SiteConfig::name).toList();
            for (String site : ops.verifyInventory().sites().keySet()) {
                if (!names.contains(site)) {
                    throw new IllegalArgumentException("ops.verifyInventory.sites names site '" + site + "', which is not one of sites[] "
                            + names);
                }
            }
        }
    }

    public BackbeatConfig(KafkaSettings kafka, SourceConfig source, List<SiteConfig> sites, DynamoDbSettings dynamodb,
                          EventSourceSettings eventSource, ReplicatorSettings replicator, OpsSettings ops) {
        this(kafka, source, sites, dynamodb, eventSource, replicator, ops, null);
    }

    /**
     * Replication events, shaped as S3's replication event notifications: {@code OperationFailedReplication} for each
     * version that fails at a site, {@code OperationMissedThreshold} and {@code OperationReplicatedAfterThreshold} for
     * one replicated later than the threshold after it was written (S3 RTC's 15 minutes by default).
     *
     * @param eventBusName the EventBridge bus they are put on (the CDK stack: the account's default bus); null: they
     *                     are logged as JSON lines (the local stack)
     * @param thresholdMinutes the replication time threshold, in minutes (15)
     */
    public record EventSettings(String eventBusName, int thresholdMinutes) {
        public static final EventSettings DEFAULTS = new EventSettings(null, 15);

        public EventSettings {
            thresholdMinutes = thresholdMinutes <= 0 ? 15 : thresholdMinutes;
        }
    }

    public static BackbeatConfig load(Path file) {
        try {
            return MAPPER.readValue(Files.readString(file), BackbeatConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read configuration " + file + ": " + e.getMessage(), e);
        }
    }

    public static BackbeatConfig parse(String json) {
        try {
            return MAPPER.readValue(json, BackbeatConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid configuration: " + e.getMessage(), e);
        }
    }

    /** Environment variables that override one field each: {@code BACKBEAT_SET_kafka__bootstrapServers=b-1:9098}. */
    public static final String OVERRIDE_PREFIX = "BACKBEAT_SET_";

    /**
     * For functions and the populator container: the file in BACKBEAT_CONFIG, or the JSON in
     * BACKBEAT_CONFIG_JSON, then each {@code BACKBEAT_SET_<path>} variable over it, the path's fields
     * separated by {@code __} ({@code BACKBEAT_SET_source__feed__url}); a value that reads as JSON
     * (a number, {@code true}, an object) is taken as such, anything else as a string.
     */
    public static BackbeatConfig fromEnvironment(Map<String, String> env) {
        String inline = env.get("BACKBEAT_CONFIG_JSON");
        String file = env.get("BACKBEAT_CONFIG");
        String json;
        try {
            if (inline != null && !inline.isBlank()) {
                json = inline;
            } else if (file != null && !file.isBlank()) {
                json = Files.readString(Path.of(file));
            } else {
                throw new IllegalStateException("no configuration: set BACKBEAT_CONFIG (a file) or BACKBEAT_CONFIG_JSON");
            }
            com.fasterxml.jackson.databind.node.ObjectNode root = (com.fasterxml.jackson.databind.node.ObjectNode) MAPPER.readTree(json);
            for (Map.Entry<String, String> variable : new java.util.TreeMap<>(env).entrySet()) {
                if (variable.getKey().startsWith(OVERRIDE_PREFIX)) {
                    override(root, variable.getKey().substring(OVERRIDE_PREFIX.length()).split("__"), variable.getValue());
                }
            }
            return MAPPER.treeToValue(root, BackbeatConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid configuration: " + e.getMessage(), e);
        }
    }

    private static void override(com.fasterxml.jackson.databind.node.ObjectNode root, String[] path, String value) throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode node = root;
        for (int i = 0; i < path.length - 1; i++) {
            com.fasterxml.jackson.databind.JsonNode next = node.get(path[i]);
            node = next instanceof com.fasterxml.jackson.databind.node.ObjectNode object ? object : node.putObject(path[i]);
        }
        com.fasterxml.jackson.databind.JsonNode parsed;
        try {
            parsed = MAPPER.readTree(value);
        } catch (IOException notJson) {
            parsed = null;
        }
        node.set(path[path.length - 1], parsed == null || parsed.isMissingNode() ? MAPPER.getNodeFactory().textNode(value) : parsed);
    }

    public String toJson() {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Optional<SiteConfig> site(String name) {
        return sites.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public SiteConfig requireSite(String name) {
        return site(name).orElseThrow(() -> new IllegalArgumentException("unknown site '" + name + "'"));
    }

    public List<String> siteNames() {
        return sites.stream().map(SiteConfig::name).toList();
    }

    public BackbeatConfig withKafka(KafkaSettings newKafka) {
        return new BackbeatConfig(newKafka, source, sites, dynamodb, eventSource, replicator, ops, events);
    }

    public BackbeatConfig withSource(SourceConfig newSource) {
        return new BackbeatConfig(kafka, newSource, sites, dynamodb, eventSource, replicator, ops, events);
    }

    public BackbeatConfig withSites(UnaryOperator<SiteConfig> change) {
        return new BackbeatConfig(kafka, source, sites.stream().map(change).toList(), dynamodb, eventSource, replicator, ops, events);
    }

    public BackbeatConfig withDynamodb(DynamoDbSettings newDynamodb) {
        return new BackbeatConfig(kafka, source, sites, newDynamodb, eventSource, replicator, ops, events);
    }

    public BackbeatConfig withReplicator(ReplicatorSettings newReplicator) {
        return new BackbeatConfig(kafka, source, sites, dynamodb, eventSource, newReplicator, ops, events);
    }

    /** The same configuration with {@code extra} sites added (tests add sites behind fault-injecting proxies). */
    public BackbeatConfig withAddedSites(List<SiteConfig> extra) {
        List<SiteConfig> all = new java.util.ArrayList<>(sites);
        all.addAll(extra);
        return new BackbeatConfig(kafka, source, all, dynamodb, eventSource, replicator, ops, events);
    }

    public BackbeatConfig withEventSource(EventSourceSettings newEventSource) {
        return new BackbeatConfig(kafka, source, sites, dynamodb, newEventSource, replicator, ops, events);
    }

    public BackbeatConfig withEvents(EventSettings newEvents) {
        return new BackbeatConfig(kafka, source, sites, dynamodb, eventSource, replicator, ops, newEvents);
    }

    public BackbeatConfig withOps(OpsSettings newOps) {
        return new BackbeatConfig(kafka, source, sites, dynamodb, eventSource, replicator, newOps, events);
    }

    /**
     * The operations side: the ops API's local port and the credentials it accepts (SigV4, service
     * {@code lambda}, as an IAM-authenticated Function URL expects), and how long failed entries are kept.
     */
    public record OpsSettings(int port, List<Credential> credentials, int failedEntryRetentionHours,
                              Map<String, String> eventSourceMappings, int verifyRequestsPerSecond, int verifyPageSize,
                              int statusRetentionDays, String triggerFailuresBucket, InventorySettings verifyInventory,
                              String region) {
        public static final OpsSettings DEFAULTS = new OpsSettings(0, null, 0, null);

        /**
         * @param eventSourceMappings     in AWS: each site's replicator event source mapping UUID, which pause
         *                                and resume disable and enable
         * @param verifyRequestsPerSecond the most requests verify makes to the source and the sites per second, so
         *                                a run can go on beside live replication
         * @param verifyPageSize          versions verify walks per step (a step is saved: a run resumes after it)
         * @param statusRetentionDays     how long a version's record in the status table is kept once every site of its
         *                                rule has COMPLETED it (DynamoDB's TTL removes it then); 0: kept. Records of
         *                                versions still PENDING, FAILED or SKIPPED somewhere are kept
         * @param triggerFailuresBucket   in AWS: the bucket where the MSK triggers put the batches they gave up on, which
         *                                the ops API lists and replays; null locally (the local trigger retries for ever)
         * @param verifyInventory         verify of big buckets by their S3 Inventory reports (null: by listings only)
         * @param region                  the region a request to the local ops API must be signed for (default us-east-1);
         *                                in AWS, API Gateway's region
         */
        public OpsSettings {
            port = port <= 0 ? 8900 : port;
            credentials = credentials == null ? List.of() : List.copyOf(credentials);
            failedEntryRetentionHours = failedEntryRetentionHours <= 0 ? 24 : failedEntryRetentionHours;
            eventSourceMappings = eventSourceMappings == null ? Map.of() : Map.copyOf(eventSourceMappings);
            verifyRequestsPerSecond = verifyRequestsPerSecond <= 0 ? 200 : verifyRequestsPerSecond;
            verifyPageSize = verifyPageSize <= 0 ? 500 : Math.min(1000, verifyPageSize);
            region = region == null || region.isBlank() ? "us-east-1" : region;
            if (statusRetentionDays < 0) {
                throw new IllegalArgumentException("ops.statusRetentionDays must be 0 (keep) or a number of days, not " + statusRetentionDays);
            }
        }

        public OpsSettings(int port, List<Credential> credentials, int failedEntryRetentionHours, Map<String, String> eventSourceMappings,
                           int verifyRequestsPerSecond, int verifyPageSize) {
            this(port, credentials, failedEntryRetentionHours, eventSourceMappings, verifyRequestsPerSecond, verifyPageSize, 0, null, null, null);
        }

        public OpsSettings(int port, List<Credential> credentials, int failedEntryRetentionHours, Map<String, String> eventSourceMappings) {
            this(port, credentials, failedEntryRetentionHours, eventSourceMappings, 0, 0);
        }

        public OpsSettings withPort(int newPort) {
            return new OpsSettings(newPort, credentials, failedEntryRetentionHours, eventSourceMappings, verifyRequestsPerSecond,
                    verifyPageSize, statusRetentionDays, triggerFailuresBucket, verifyInventory, region);
        }

        public OpsSettings withVerifyInventory(InventorySettings inventory) {
            return new OpsSettings(port, credentials, failedEntryRetentionHours, eventSourceMappings, verifyRequestsPerSecond,
                    verifyPageSize, statusRetentionDays, triggerFailuresBucket, inventory, region);
        }
    }

    /**
     * Verify of buckets too big to list by their S3 Inventory reports (issue 29): a bucket counted to {@code fromVersions}
     * versions whose source has a report is compared report against report, and only the keys the reports cannot decide
     * are read live. Reports must be CSV, of all versions, with the optional fields Size, LastModifiedDate and ETag (the CDK
     * stack configures them so: docs/deploy.md).
     *
     * @param configurationId the inventory configuration's id on the source's and the sites' buckets (its reports' folder)
     * @param fromVersions    the size from which a bucket is checked by its reports
     * @param source          where the source's buckets' reports are delivered, {@code s3://bucket[/prefix]} (the
     *                        configurations' destination); read with the source's credentials, which also keep a run's
     *                        shards there (under {@code backbeat-verify/})
     * @param sites           per site name, where its buckets' reports are delivered (read with the site's credentials); a
     *                        bucket is checked by its reports only when every site it replicates to has one
     */
    public record InventorySettings(String configurationId, long fromVersions, String source, Map<String, String> sites) {
        public InventorySettings {
            configurationId = configurationId == null || configurationId.isBlank() ? "backbeat" : configurationId;
            fromVersions = fromVersions <= 0 ? 10_000_000 : fromVersions;
            if (source == null || !source.startsWith("s3://") || source.length() <= "s3://".length()) {
                throw new IllegalArgumentException("ops.verifyInventory.source must be where the source's inventory reports are delivered,"
                        + " an s3://bucket[/prefix] URI, not '" + source + "'");
            }
            sites = sites == null ? Map.of() : Map.copyOf(sites);
            sites.forEach((site, uri) -> {
                if (uri == null || !uri.startsWith("s3://") || uri.length() <= "s3://".length()) {
                    throw new IllegalArgumentException("ops.verifyInventory.sites." + site + " must be an s3://bucket[/prefix] URI, not '" + uri + "'");
                }
            });
        }
    }

    /**
     * An access key the local ops API accepts; with a session token, a temporary one (as STS or IAM Identity Center
     * issue), whose requests must carry that token ({@code X-Amz-Security-Token}, signed), as AWS requires.
     *
     * @param unsignedPayload whether this key's requests may leave their body unsigned ({@code x-amz-content-sha256:
     *                        UNSIGNED-PAYLOAD}); false by default, since such a body is not bound to the signature and
     *                        can be swapped by whoever sits between the client and the port
     */
    public record Credential(String accessKeyId, String secretAccessKey, String sessionToken, boolean unsignedPayload) {
        public Credential(String accessKeyId, String secretAccessKey, String sessionToken) {
            this(accessKeyId, secretAccessKey, sessionToken, false);
        }

        public Credential(String accessKeyId, String secretAccessKey) {
            this(accessKeyId, secretAccessKey, null);
        }
    }

    /**
     * Kafka (Amazon MSK in AWS): where the brokers are, the two topics, and whether clients authenticate
     * with IAM (MSK's SASL/AWS_MSK_IAM over TLS, port 9098).
     */
    public record KafkaSettings(String bootstrapServers, String replicationTopic, String statusTopic, int partitions, boolean iamAuth) {
        public KafkaSettings(String bootstrapServers, String replicationTopic, String statusTopic, int partitions) {
            this(bootstrapServers, replicationTopic, statusTopic, partitions, false);
        }

        public KafkaSettings {
            replicationTopic = replicationTopic == null ? "backbeat-replication" : replicationTopic;
            statusTopic = statusTopic == null ? "backbeat-replication-status" : statusTopic;
            partitions = partitions <= 0 ? 8 : partitions;
        }

        public KafkaSettings withBootstrapServers(String servers) {
            return new KafkaSettings(servers, replicationTopic, statusTopic, partitions, iamAuth);
        }
    }

    /**
     * The source store and its change feed.
     *
     * @param type {@code s3} (AWS S3 or any S3-compatible store) or {@code cloudserver}, whose metadata and
     *             record log carry internal version ids that its S3 API spells in hex
     * @param feed      the change feed
     * @param rulesFrom {@code bucket}: each bucket's own replication configuration (CloudServer, S3-compatible
     *                  servers); {@code store}: the project's rule store (AWS S3 sources), set through the ops API
     */
    public record SourceConfig(String type, Endpoint endpoint, FeedSettings feed, String rulesFrom) {
        public static final String TYPE_S3 = "s3";
        public static final String TYPE_CLOUDSERVER = "cloudserver";
        public static final String RULES_FROM_BUCKET = "bucket";
        public static final String RULES_FROM_STORE = "store";

        public SourceConfig(String type, Endpoint endpoint, FeedSettings feed) {
            this(type, endpoint, feed, null);
        }

        public SourceConfig {
            rulesFrom = rulesFrom == null ? RULES_FROM_BUCKET : rulesFrom;
            if (!RULES_FROM_BUCKET.equals(rulesFrom) && !RULES_FROM_STORE.equals(rulesFrom)) {
                throw new IllegalArgumentException("source.rulesFrom '" + rulesFrom + "' is not supported (bucket, store)");
            }
            type = type == null ? TYPE_S3 : type;
            if (!TYPE_S3.equals(type) && !TYPE_CLOUDSERVER.equals(type)) {
                throw new IllegalArgumentException("source.type '" + type + "' is not supported (supported: s3, cloudserver)");
            }
            if (endpoint == null) {
                throw new IllegalArgumentException("source has no endpoint");
            }
            feed = feed == null ? FeedSettings.listing(1000) : feed;
        }

        public SourceConfig withEndpoint(Endpoint newEndpoint) {
            return new SourceConfig(type, newEndpoint, feed, rulesFrom);
        }

        public SourceConfig withFeed(FeedSettings newFeed) {
            return new SourceConfig(type, endpoint, newFeed, rulesFrom);
        }

        /** Where the listing feed keeps its markers and progress in the checkpoints table. */
        public String listingCheckpointName() {
            return "listing:" + (endpoint.url() == null ? "aws-" + endpoint.region() : endpoint.uri().getAuthority());
        }

        /** The version id the source's S3 API takes for a version id of an entry. */
        public String s3VersionId(String entryVersionId) {
            return TYPE_CLOUDSERVER.equals(type)
                    ? io.backbeatserverless.core.metadata.CloudServerVersionIds.toExternal(entryVersionId) : entryVersionId;
        }

        /** The reverse: the version id entries and the status table use for a version id of the source's S3 API. */
        public String statusVersionId(String s3VersionId) {
            return TYPE_CLOUDSERVER.equals(type)
                    ? io.backbeatserverless.core.metadata.CloudServerVersionIds.toInternal(s3VersionId) : s3VersionId;
        }
    }

    /**
     * The source's change feed.
     *
     * @param type        {@code listing} (ListObjectVersions over replication-enabled buckets),
     *                    {@code cloudserver-record-log} (CloudServer's record log, {@code POST <url>} readRecords),
     *                    {@code bucketd-raft-log} (S3 Connector's bucketd, {@code GET <url>/_/raft_sessions/<id>/log}),
     *                    {@code s3-events-sqs} (S3 Event Notifications in the SQS queue at {@code url})
     * @param intervalMs  pause between reads when nothing new was found
     * @param url         the record log's URL ({@code http://host:9000/MDFile/recordLog}), bucketd's base URL, or the queue URL
     * @param logName     the record log's name ({@code s3-recordlog})
     * @param raftSession bucketd's raft session id
     * @param batchSize   log records read at once
     */
    public record FeedSettings(String type, long intervalMs, String url, String logName, Integer raftSession, int batchSize) {
        public static final String LISTING = "listing";
        public static final String CLOUDSERVER_RECORD_LOG = "cloudserver-record-log";
        public static final String BUCKETD_RAFT_LOG = "bucketd-raft-log";
        public static final String S3_EVENTS_SQS = "s3-events-sqs";

        public FeedSettings {
            type = type == null ? LISTING : type;
            if (!List.of(LISTING, CLOUDSERVER_RECORD_LOG, BUCKETD_RAFT_LOG, S3_EVENTS_SQS).contains(type)) {
                throw new IllegalArgumentException("source.feed.type '" + type + "' is not supported (supported: "
                        + LISTING + ", " + CLOUDSERVER_RECORD_LOG + ", " + BUCKETD_RAFT_LOG + ", " + S3_EVENTS_SQS + ")");
            }
            if (!type.equals(LISTING) && (url == null || url.isBlank())) {
                throw new IllegalArgumentException("source.feed.url is required for the " + type + " feed");
            }
            if (type.equals(BUCKETD_RAFT_LOG) && raftSession == null) {
                throw new IllegalArgumentException("source.feed.raftSession is required for the " + type + " feed");
            }
            // A journal read that finds nothing is one small request, and the wait after it is latency every
            // version pays: journals are read often, a listing (a whole pass) seldom.
            intervalMs = intervalMs > 0 ? intervalMs : type.equals(CLOUDSERVER_RECORD_LOG) || type.equals(BUCKETD_RAFT_LOG) ? 100 : 1000;
            logName = logName == null ? "s3-recordlog" : logName;
            batchSize = batchSize <= 0 ? 1000 : batchSize;
        }

        public static FeedSettings listing(long intervalMs) {
            return new FeedSettings(LISTING, intervalMs, null, null, null, 0);
        }
    }

    public record DynamoDbSettings(Endpoint endpoint, TableNames tables) {
        public DynamoDbSettings {
            endpoint = endpoint == null ? new Endpoint(null, null, null, null) : endpoint;
            tables = tables == null ? TableNames.DEFAULTS : tables;
        }

        public DynamoDbSettings withEndpoint(Endpoint newEndpoint) {
            return new DynamoDbSettings(newEndpoint, tables);
        }
    }

    /** The project's DynamoDB tables (see docs/architecture.md for their keys). */
    public record TableNames(String status, String failedEntries, String siteState, String checkpoints, String metrics,
                             String rules, String verify) {
        public static final TableNames DEFAULTS = new TableNames(null, null, null, null, null, null, null);

        public TableNames(String status, String failedEntries, String siteState, String checkpoints, String metrics, String rules) {
            this(status, failedEntries, siteState, checkpoints, metrics, rules, null);
        }

        public TableNames {
            status = status == null ? "backbeat-replication-status" : status;
            failedEntries = failedEntries == null ? "backbeat-failed-entries" : failedEntries;
            siteState = siteState == null ? "backbeat-site-state" : siteState;
            checkpoints = checkpoints == null ? "backbeat-checkpoints" : checkpoints;
            metrics = metrics == null ? "backbeat-metrics" : metrics;
            rules = rules == null ? "backbeat-rules" : rules;
            verify = verify == null ? "backbeat-verify" : verify;
        }

        public java.util.List<String> all() {
            return java.util.List.of(status, failedEntries, siteState, checkpoints, metrics, rules, verify);
        }
    }

    /**
     * The event source mapping's batching, as configured on the MSK trigger: at most
     * {@code batchSize} records, waiting at most {@code batchWindowMs} to fill a batch. Locally, each invocation also
     * gets {@code functionTimeoutSeconds} (Lambda's function timeout, 900 s at most) as its context's time left, so a
     * short one shows copies resumed across invocations. {@code concurrency}: how many invocations of a trigger the local
     * runner runs at once, each on its own share of the partitions, one batch at a time (Lambda runs one per partition at
     * once: set the topic's partitions to run as it does; 1, the default, delivers every partition to one invocation).
     */
    public record EventSourceSettings(int batchSize, long batchWindowMs, long functionTimeoutSeconds, int concurrency) {
        public static final EventSourceSettings DEFAULTS = new EventSourceSettings(100, 100, 900);

        public EventSourceSettings(int batchSize, long batchWindowMs) {
            this(batchSize, batchWindowMs, 900);
        }

        public EventSourceSettings(int batchSize, long batchWindowMs, long functionTimeoutSeconds) {
            this(batchSize, batchWindowMs, functionTimeoutSeconds, 1);
        }

        public EventSourceSettings {
            batchSize = batchSize <= 0 ? 100 : batchSize;
            batchWindowMs = batchWindowMs < 0 ? 0 : batchWindowMs;
            functionTimeoutSeconds = functionTimeoutSeconds <= 0 ? 900 : functionTimeoutSeconds;
            concurrency = concurrency <= 0 ? 1 : concurrency;
        }

        /** The same, with {@code invocations} that may run at once (the local runner's members of the group). */
        public EventSourceSettings withConcurrency(int invocations) {
            return new EventSourceSettings(batchSize, batchWindowMs, functionTimeoutSeconds, invocations);
        }
    }
}
