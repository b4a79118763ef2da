package io.backbeatserverless.infra;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What one deployment of Backbeat Serverless looks like: the source, the destination sites and how
 * their credentials are found, the Kafka cluster, the function and container sizes, the alarm
 * thresholds. Read from a JSON file (see {@code infra-cdk/deployment.example.json} and docs/deploy.md);
 * unknown fields are rejected so that a typo does not silently fall back to a default.
 *
 * <p>{@code statusRetentionDays}: how long a version's record in the status table is kept once every site is done with
 * it (COMPLETED or SKIPPED); 0 keeps it. Records of versions still PENDING or FAILED are kept. Default: 30 on the
 * S3-events feed; 0 on the listing feed, whose memory of what it queued those records are (an expired record makes it
 * queue the version again, once: a HEAD at each site finds the replica and records COMPLETED again).
 */
public record DeploymentConfig(Source source, List<Site> sites, Kafka kafka, EventSource eventSource,
                               Functions functions, Populator populator, Alarms alarms, int failedEntryRetentionHours,
                               String alarmEmail, Verify verify, Integer statusRetentionDays) {

    /** Without {@code statusRetentionDays}: its default for the source's feed. */
    public DeploymentConfig(Source source, List<Site> sites, Kafka kafka, EventSource eventSource, Functions functions,
                            Populator populator, Alarms alarms, int failedEntryRetentionHours, String alarmEmail, Verify verify) {
        this(source, sites, kafka, eventSource, functions, populator, alarms, failedEntryRetentionHours, alarmEmail, verify, null);
    }

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
    /** Site names become consumer groups and construct ids; keep them to what both accept. */
    private static final Pattern SITE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,39}");

    public DeploymentConfig {
        if (source == null) {
            throw new IllegalArgumentException("deployment has no 'source'");
        }
        if (sites == null || sites.isEmpty()) {
            throw new IllegalArgumentException("deployment has no destination 'sites'");
        }
        sites = List.copyOf(sites);
        if (sites.stream().map(Site::name).distinct().count() != sites.size()) {
            throw new IllegalArgumentException("two sites share a name");
        }
        kafka = kafka == null ? new Kafka(null, 0, null) : kafka;
        eventSource = eventSource == null ? new EventSource(0, -1) : eventSource;
        functions = functions == null ? new Functions(0, 0, 0, 0) : functions;
        populator = populator == null ? new Populator(0, 0) : populator;
        alarms = alarms == null ? new Alarms(0, 0, 0, 0, 0) : alarms;
        verify = verify == null ? new Verify(null, List.of(), false) : verify;
        if (verify.inventory() != null && !source.isAwsS3()) {
            throw new IllegalArgumentException("verify.inventory configures S3 Inventory on the source's buckets: it needs an AWS S3 source"
                    + " (source.type s3, no endpointUrl); another store's inventories are given to verify by ops.verifyInventory");
        }
        failedEntryRetentionHours = failedEntryRetentionHours <= 0 ? 24 : failedEntryRetentionHours;
        if (statusRetentionDays == null) {
            statusRetentionDays = source.feed().equals(Source.FEED_S3_EVENTS) ? 30 : 0;
        }
        if (statusRetentionDays < 0) {
            throw new IllegalArgumentException("statusRetentionDays must be 0 (keep) or a number of days, not " + statusRetentionDays);
        }
    }

    public static DeploymentConfig load(Path file) {
        try {
            return MAPPER.readValue(Files.readString(file), DeploymentConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read deployment configuration " + file + ": " + e.getMessage(), e);
        }
    }

    public static DeploymentConfig parse(String json) {
        try {
            return MAPPER.readValue(json, DeploymentConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid deployment configuration: " + e.getMessage(), e);
        }
    }

    /**
     * The source store.
     *
     * @param type                 {@code s3} or {@code cloudserver} (as the functions' {@code source.type})
     * @param endpointUrl          null for AWS S3; else the S3-compatible endpoint (CloudServer, ...)
     * @param buckets              the buckets to replicate from; for AWS S3 they scope every IAM grant and get
     *                             event notifications to the change queue
     * @param credentialsSecretArn for a non-AWS source: a Secrets Manager secret holding
     *                             {@code {"accessKeyId":..,"secretAccessKey":..}}; AWS sources use the IAM roles
     * @param kmsKeyArns           for AWS S3: the KMS keys (key ARNs) the source's SSE-KMS versions are encrypted with, which
     *                             the replicator decrypts as it reads them (kms:Decrypt); the keys' policies must allow it too
     */
    public record Source(String type, String endpointUrl, String region, List<String> buckets,
                         String credentialsSecretArn, long feedIntervalMs, String feed, List<String> kmsKeyArns) {
        /** S3 event notifications of the source buckets, through the stack's queue: the live feed of an AWS S3 source. */
        public static final String FEED_S3_EVENTS = "s3-events";
        /** ListObjectVersions passes over the buckets with rules: any S3-compatible source, and backfills. */
        public static final String FEED_LISTING = "listing";

        public Source {
            type = type == null ? "s3" : type;
            if (!type.equals("s3") && !type.equals("cloudserver")) {
                throw new IllegalArgumentException("source.type '" + type + "' is not supported (s3, cloudserver)");
            }
            buckets = buckets == null ? List.of() : List.copyOf(buckets);
            kmsKeyArns = kmsKeyArns == null ? List.of() : List.copyOf(kmsKeyArns);
            boolean awsS3 = endpointUrl == null && type.equals("s3");
            if (endpointUrl == null && buckets.isEmpty()) {
                throw new IllegalArgumentException("an AWS S3 source needs its 'buckets' (IAM grants are scoped to them)");
            }
            feedIntervalMs = feedIntervalMs <= 0 ? 1000 : feedIntervalMs;
            feed = feed == null ? (awsS3 ? FEED_S3_EVENTS : FEED_LISTING) : feed;
            if (!feed.equals(FEED_S3_EVENTS) && !feed.equals(FEED_LISTING)) {
                throw new IllegalArgumentException("source.feed '" + feed + "' is not supported (" + FEED_S3_EVENTS + ", " + FEED_LISTING + ")");
            }
            if (feed.equals(FEED_S3_EVENTS) && !awsS3) {
                throw new IllegalArgumentException("source.feed '" + FEED_S3_EVENTS + "' needs an AWS S3 source (the stack sends its "
                        + "buckets' event notifications to its queue); use '" + FEED_LISTING + "' for " + (endpointUrl == null ? type : endpointUrl));
            }
        }

        public Source(String type, String endpointUrl, String region, List<String> buckets, String credentialsSecretArn, long feedIntervalMs) {
            this(type, endpointUrl, region, buckets, credentialsSecretArn, feedIntervalMs, null, null);
        }

        public boolean s3Events() {
            return feed.equals(FEED_S3_EVENTS);
        }

        public boolean isAwsS3() {
            return endpointUrl == null && type.equals("s3");
        }
    }

    /**
     * A destination site.
     *
     * @param bucket               the site's fixed bucket; null to use each rule's Destination.Bucket
     * @param destinationBuckets   for an AWS S3 site without a fixed bucket: every bucket rules may name (IAM scope)
     * @param endpointUrl          null for AWS S3; else the S3-compatible or CloudServer endpoint
     * @param credentialsSecretArn a Secrets Manager secret with {@code accessKeyId}/{@code secretAccessKey};
     *                             null for an AWS S3 site written with the replicator's own IAM role
     * @param serverSideCopy       whether S3 itself copies the versions (CopyObject, UploadPartCopy); null (the default):
     *                             when the site and the source are both Amazon S3 reached with the replicator's role
     * @param encryption           how replicas are encrypted at the site (the functions' {@code sites[].encryption}); its
     *                             {@code kmsKeyId}, a key ARN, is granted to the replicator (kms:GenerateDataKey, and
     *                             kms:Decrypt, which multipart uploads under SSE-KMS need)
     * @param autoRetrySeconds     the functions' {@code sites[].autoRetrySeconds}: when a transient failure here is retried
     *                             on its own (issue 31); null: their default
     * @param maxBytesPerSecond    the functions' {@code sites[].maxBytesPerSecond}: the most bytes per second this site's
     *                             replicators together send it, each invocation taking its share (the limit divided by the
     *                             topic's partitions); null: no limit
     */
    public record Site(String name, String type, String bucket, boolean bucketMatch, List<String> destinationBuckets,
                       String endpointUrl, String region, String credentialsSecretArn, Boolean serverSideCopy,
                       io.backbeatserverless.core.metadata.ReplicaEncryption encryption, List<Long> autoRetrySeconds,
                       Long maxBytesPerSecond) {
        public Site {
            if (name == null || !SITE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("site name '" + name + "' must match " + SITE_NAME.pattern());
            }
            type = type == null ? "aws_s3" : type;
            if (!type.equals("aws_s3") && !type.equals("scality")) {
                throw new IllegalArgumentException("site '" + name + "' has unsupported type '" + type + "' (aws_s3, scality)");
            }
            destinationBuckets = destinationBuckets == null ? List.of() : List.copyOf(destinationBuckets);
            // Fields are assigned after this body: test the parameters, not usesExecutionRole().
            boolean executionRole = endpointUrl == null && credentialsSecretArn == null && "aws_s3".equals(type);
            if (executionRole && bucket == null && destinationBuckets.isEmpty()) {
                throw new IllegalArgumentException("AWS S3 site '" + name
                        + "' needs 'bucket' or 'destinationBuckets' (its IAM grants are scoped to them)");
            }
        }

        /** An AWS S3 site without stored keys: the replicator's execution role writes to it. */
        public boolean usesExecutionRole() {
            return endpointUrl == null && credentialsSecretArn == null && "aws_s3".equals(type);
        }

        /** The buckets the replicator's role may write to. */
        public List<String> writableBuckets() {
            if (!usesExecutionRole()) {
                return List.of();
            }
            return bucket != null ? List.of(bucket) : destinationBuckets;
        }

        public String consumerGroup() {
            return "backbeat-replication-" + name;
        }
    }

    /**
     * The Kafka cluster: {@code serverless} (MSK Serverless, the default) or {@code provisioned}, and the
     * partitions of each topic (the most replicator invocations a site runs at once).
     */
    public record Kafka(String mode, int partitions, ProvisionedKafka provisioned) {
        public Kafka {
            partitions = partitions <= 0 ? 8 : partitions;
            mode = mode == null ? "serverless" : mode;
            if (!mode.equals("serverless") && !mode.equals("provisioned")) {
                throw new IllegalArgumentException("kafka.mode '" + mode + "' is not supported (serverless, provisioned)");
            }
            provisioned = provisioned == null ? new ProvisionedKafka(null, null, 0, 0) : provisioned;
        }

        public boolean serverless() {
            return mode.equals("serverless");
        }
    }

    /** Sizes of a provisioned MSK cluster (brokers are spread over the VPC's two availability zones). */
    public record ProvisionedKafka(String instanceType, String kafkaVersion, int brokerCount, int volumeSizeGiB) {
        public ProvisionedKafka {
            instanceType = instanceType == null ? "kafka.m7g.large" : instanceType;
            kafkaVersion = kafkaVersion == null ? "3.9.x" : kafkaVersion;
            brokerCount = brokerCount <= 0 ? 2 : brokerCount;
            if (brokerCount % 2 != 0) {
                throw new IllegalArgumentException("kafka.provisioned.brokerCount must be a multiple of 2 (one per AZ)");
            }
            volumeSizeGiB = volumeSizeGiB <= 0 ? 100 : volumeSizeGiB;
        }
    }

    /**
     * The MSK triggers: records per batch, the batching window, and their pollers.
     *
     * @param minimumPollers with {@code maximumPollers}, the triggers' provisioned mode (issue 33): Lambda keeps at least
     *                       this many event pollers for each trigger (1 to 200) and scales them up to {@code maximumPollers}
     *                       (1 to 2,000), each an event poller unit billed by the hour whether or not records flow
     *                       (docs/scale-and-cost.md); both 0 (the default): on-demand pollers, billed nothing apart,
     *                       which scale more slowly on a burst
     */
    public record EventSource(int batchSize, int batchWindowSeconds, int minimumPollers, int maximumPollers) {
        public EventSource {
            batchSize = batchSize <= 0 ? 100 : batchSize;
            batchWindowSeconds = batchWindowSeconds < 0 ? 1 : batchWindowSeconds;
            if (minimumPollers != 0 || maximumPollers != 0) {
                if (minimumPollers < 1 || minimumPollers > 200) {
                    throw new IllegalArgumentException("eventSource.minimumPollers must be 1 to 200 with provisioned pollers, not " + minimumPollers);
                }
                if (maximumPollers < minimumPollers || maximumPollers > 2000) {
                    throw new IllegalArgumentException("eventSource.maximumPollers must be from minimumPollers (" + minimumPollers
                            + ") to 2000, not " + maximumPollers);
                }
            }
        }

        public EventSource(int batchSize, int batchWindowSeconds) {
            this(batchSize, batchWindowSeconds, 0, 0);
        }

        /** Whether the triggers run in provisioned mode (pollers kept and scaled between the two bounds). */
        public boolean provisionedPollers() {
            return minimumPollers > 0;
        }
    }

    /**
     * Memory (MiB) of each function, the replicator's timeout (large objects take long), and how many keys one
     * replicator invocation copies at once ({@code replicator.keyConcurrency} of the runtime configuration: with the
     * partitions and the batch size, what sets a site's throughput; docs/scale-and-cost.md).
     */
    public record Functions(int replicatorMemoryMiB, int replicatorTimeoutSeconds, int statusMemoryMiB, int opsMemoryMiB,
                            int replicatorKeyConcurrency) {
        public Functions(int replicatorMemoryMiB, int replicatorTimeoutSeconds, int statusMemoryMiB, int opsMemoryMiB) {
            this(replicatorMemoryMiB, replicatorTimeoutSeconds, statusMemoryMiB, opsMemoryMiB, 0);
        }

        public Functions {
            replicatorKeyConcurrency = replicatorKeyConcurrency <= 0 ? 16 : replicatorKeyConcurrency;
            replicatorMemoryMiB = replicatorMemoryMiB <= 0 ? 2048 : replicatorMemoryMiB;
            replicatorTimeoutSeconds = replicatorTimeoutSeconds <= 0 ? 900 : replicatorTimeoutSeconds;
            statusMemoryMiB = statusMemoryMiB <= 0 ? 1024 : statusMemoryMiB;
            opsMemoryMiB = opsMemoryMiB <= 0 ? 1024 : opsMemoryMiB;
        }
    }

    /** The populator task's size (Fargate units: 1024 cpu = 1 vCPU). */
    public record Populator(int cpu, int memoryMiB) {
        public Populator {
            cpu = cpu <= 0 ? 512 : cpu;
            memoryMiB = memoryMiB <= 0 ? 1024 : memoryMiB;
        }
    }

    /**
     * Alarm thresholds: a replicator's offset lag (records behind), its p99 duration (the replication
     * latency proxy), errors per 5 minutes, and how long the populator may go without a batch going through.
     */
    /**
     * @param replicationTimeThresholdMinutes a version replicated later than this after it was written raises S3's
     *                                        OperationMissedThreshold and OperationReplicatedAfterThreshold events
     *                                        (default 15, S3 RTC's)
     */
    public record Alarms(long backlogRecords, int replicationLatencyP99Seconds, int errorsPerFiveMinutes, int populatorStallSeconds,
                         int replicationTimeThresholdMinutes) {
        public Alarms(long backlogRecords, int replicationLatencyP99Seconds, int errorsPerFiveMinutes) {
            this(backlogRecords, replicationLatencyP99Seconds, errorsPerFiveMinutes, 0, 0);
        }

        public Alarms {
            replicationTimeThresholdMinutes = replicationTimeThresholdMinutes <= 0 ? 15 : replicationTimeThresholdMinutes;
            populatorStallSeconds = populatorStallSeconds <= 0 ? 600 : populatorStallSeconds;
            backlogRecords = backlogRecords <= 0 ? 10_000 : backlogRecords;
            replicationLatencyP99Seconds = replicationLatencyP99Seconds <= 0 ? 900 : replicationLatencyP99Seconds; // S3 RTC's 15 min
            errorsPerFiveMinutes = errorsPerFiveMinutes <= 0 ? 1 : errorsPerFiveMinutes;
        }
    }

    /**
     * Scheduled verify runs, off unless {@code schedule} is set: an EventBridge Scheduler expression
     * ({@code rate(1 day)}, {@code cron(0 3 * * ? *)}) starting a run of each of {@code buckets} (none: every bucket
     * with rules), with {@code repair} if asked, and {@code deep} (every version read whole: HEAD and tags) rather than by
     * the listings with a sample read whole (issue 29). Runs started from the ops API are walked whatever this says.
     */
    /**
     * @param inventory verify of big buckets by S3 Inventory reports, which the stack then configures (null: by listings only)
     */
    public record Verify(String schedule, List<String> buckets, boolean repair, boolean deep, Inventory inventory) {
        public Verify {
            buckets = buckets == null ? List.of() : List.copyOf(buckets);
        }

        public Verify(String schedule, List<String> buckets, boolean repair) {
            this(schedule, buckets, repair, false, null);
        }

        public Verify(String schedule, List<String> buckets, boolean repair, boolean deep) {
            this(schedule, buckets, repair, deep, null);
        }
    }

    /**
     * S3 Inventory reports for verify (issue 29): the stack gives each source bucket (and each site bucket in the source's
     * Region) an inventory configuration and a bucket to deliver to; a bucket counted to {@code fromVersions} versions is
     * then checked report against report.
     *
     * @param frequency {@code Daily} or {@code Weekly} (the default): how fresh the reports are, at S3 Inventory's price per
     *                  million objects listed
     * @param keepDays  how long reports are kept (default 14)
     */
    public record Inventory(long fromVersions, String frequency, int keepDays) {
        public Inventory {
            fromVersions = fromVersions <= 0 ? 10_000_000 : fromVersions;
            frequency = frequency == null ? "Weekly" : frequency;
            if (!frequency.equals("Daily") && !frequency.equals("Weekly")) {
                throw new IllegalArgumentException("verify.inventory.frequency '" + frequency + "' is not one of Daily, Weekly (S3 Inventory's schedules)");
            }
            keepDays = keepDays <= 0 ? 14 : keepDays;
        }
    }
}
