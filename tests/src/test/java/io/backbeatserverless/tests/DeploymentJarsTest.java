package io.backbeatserverless.tests;

import java.util.LinkedHashMap;

import com.fasterxml.jackson.databind.ObjectMapper;

import com.fasterxml.jackson.databind.JsonNode;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.Endpoint;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.adapters.dynamodb.TableSchemas;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.core.status.VersionRef;
import io.backbeatserverless.core.status.VersionStatus;
import io.backbeatserverless.localstack.EmbeddedKafka;
import io.backbeatserverless.ops.OpsHandler;
import io.backbeatserverless.populator.PopulatorMain;
import io.backbeatserverless.replicator.ReplicatorHandler;
import io.backbeatserverless.status.StatusHandler;
import io.backbeatserverless.tests.jarprobes.HttpEventHandlerProbe;
import io.backbeatserverless.tests.jarprobes.MapEventHandlerProbe;
import io.backbeatserverless.adapters.dynamodb.DynamoDbVerifyRunStore;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.verifier.VerifierHandler;
import io.backbeatserverless.tests.jarprobes.KafkaEventHandlerProbe;
import io.backbeatserverless.tests.jarprobes.MskIamAuthProbe;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ReplicationConfiguration;
import software.amazon.awssdk.services.s3.model.ReplicationRuleStatus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The deployment jars ({@code functions/<name>/target/lambda.jar}, built at package) each run in a new
 * JVM with only that jar on the class path, as Lambda and the populator's container run them. Their
 * shade configurations leave out what each function does not use; a class one still needs fails its
 * step here. One object goes through all four: the populator jar queues it, the replicator jar copies it
 * and publishes its outcome, the status jar records that, and the ops jar answers the healthcheck
 * (Kafka's admin client) and a forced retry (DynamoDB, then Kafka). The Kafka clients' jars also sign
 * MSK's IAM authentication.
 *
 * <p>Everything is this test's own on the shared stack's servers: topics, tables, site and buckets. The
 * buckets live on the destination server of {@code aws-location}, which the stack's populator never lists.
 * The jars are built by {@code ./mvnw package} (or verify): run the functions' package before this module's tests.
 */
class DeploymentJarsTest extends StackScenario {

    private static final String SITE = "jars-site";
    private static final Duration CHILD_DEADLINE = Duration.ofSeconds(120);

    private static BackbeatConfig config;
    private static S3Client s3;

    @TempDir
    Path work;

    @BeforeAll
    static void privateTopicsTablesAndBuckets() throws Exception {
        BackbeatConfig shared = stack.config;
        Endpoint server = shared.requireSite(SharedStack.AWS_LOCATION).endpoint();
        String run = UUID.randomUUID().toString().substring(0, 8);
        var kafka = new BackbeatConfig.KafkaSettings(shared.kafka().bootstrapServers(), "jars-" + run + "-replication",
                "jars-" + run + "-status", 1);
        var tables = new BackbeatConfig.TableNames("jars-" + run + "-status", "jars-" + run + "-failed", "jars-" + run + "-site-state",
                "jars-" + run + "-checkpoints", "jars-" + run + "-metrics", "jars-" + run + "-rules", "jars-" + run + "-verify");
        config = new BackbeatConfig(kafka,
                new BackbeatConfig.SourceConfig(BackbeatConfig.SourceConfig.TYPE_S3, server, BackbeatConfig.FeedSettings.listing(200)),
                List.of(new SiteConfig(SITE, SiteConfig.TYPE_AWS_S3, server, "jars-" + run + "-dest", false)),
                new BackbeatConfig.DynamoDbSettings(shared.dynamodb().endpoint(), tables), null, null,
                // A mapping makes the ops function build its Lambda API client (pause and resume are not called here).
                new BackbeatConfig.OpsSettings(0, List.of(), 0, Map.of(SITE, UUID.randomUUID().toString())));

        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(kafka.replicationTopic(), 1, (short) 1), new NewTopic(kafka.statusTopic(), 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        TableSchemas.createMissing(stack.dynamo, tables, Duration.ofSeconds(30));
        s3 = stack.destination;
        s3.createBucket(r -> r.bucket(config.sites().getFirst().bucket()));
        s3.putBucketVersioning(r -> r.bucket(config.sites().getFirst().bucket()).versioningConfiguration(v -> v.status("Enabled")));
    }

    @Test
    void eachFunctionRunsFromItsDeploymentJarAlone() throws Exception {
        String bucket = "jars-src-" + UUID.randomUUID().toString().substring(0, 8);
        s3.createBucket(r -> r.bucket(bucket));
        s3.putBucketVersioning(r -> r.bucket(bucket).versioningConfiguration(v -> v.status("Enabled")));
        s3.putBucketReplication(r -> r.bucket(bucket).replicationConfiguration(ReplicationConfiguration.builder()
                .role(StackClients.ROLE).rules(rule -> rule.status(ReplicationRuleStatus.ENABLED).prefix("")
                        .destination(d -> d.bucket("arn:aws:s3:::" + bucket).storageClass(SITE))).build()));
        byte[] body = new byte[4096];
        ThreadLocalRandom.current().nextBytes(body);

        // The populator container's main: it meets the bucket with its rule (a backfill job of what it holds: nothing yet),
        // then lists it and queues the new version.
        Process populator = start("populator", List.of(PopulatorMain.class.getName()),
                Map.of("BACKBEAT_POPULATOR_HEALTH_PORT", Integer.toString(EmbeddedKafka.freePort())), work.resolve("populator.log"));
        List<ConsumerRecord<String, byte[]>> published;
        String versionId;
        try {
            var jobs = new io.backbeatserverless.adapters.dynamodb.DynamoDbBackfillJobStore(stack.dynamo, config.dynamodb().tables().status());
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> jobs.list(10).stream()
                    .anyMatch(j -> j.bucket().equals(bucket) && j.state() == io.backbeatserverless.core.backfill.BackfillJob.State.LISTED));
            versionId = s3.putObject(r -> r.bucket(bucket).key("object"), RequestBody.fromBytes(body)).versionId();
            published = records(config.kafka().replicationTopic(), 1, Duration.ofSeconds(60));
        } finally {
            populator.destroy();
            populator.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(published).as("populator jar: %s", log(work.resolve("populator.log"))).hasSize(1);
        // The jar carries its own SLF4J provider: its log lines reach the output (CloudWatch Logs in AWS).
        assertThat(log(work.resolve("populator.log"))).contains("populator started on the listing feed");
        ConsumerRecord<String, byte[]> queued = published.getFirst();
        assertThat(new String(queued.value(), StandardCharsets.UTF_8)).contains(bucket).contains(versionId);

        List<String> replicator = runToEnd("replicator", kafkaEventProbe(ReplicatorHandler.class, config.kafka().replicationTopic(), queued),
                Map.of("BACKBEAT_SITE", SITE));
        assertThat(replicator).contains("RESULT BatchResult[completed=1, failed=0, skipped=0, ignored=0, malformed=0, deferred=0]");
        assertThat(s3.getObjectAsBytes(r -> r.bucket(config.sites().getFirst().bucket()).key(bucket + "/object")).asByteArray())
                .isEqualTo(body);

        List<ConsumerRecord<String, byte[]>> outcomes = records(config.kafka().statusTopic(), 1, Duration.ofSeconds(30));
        assertThat(outcomes).as("the replicator's outcome on the status topic").hasSize(1);
        ConsumerRecord<String, byte[]> outcome = outcomes.getFirst();
        List<String> status = runToEnd("status", kafkaEventProbe(StatusHandler.class, config.kafka().statusTopic(), outcome), Map.of());
        assertThat(status).contains("RESULT BatchResult[recorded=1, unchanged=0, malformed=0]");
        VersionStatus recorded = new DynamoDbReplicationStatusStore(stack.dynamo, config.dynamodb().tables().status(), Clock.systemUTC())
                .find(new VersionRef(bucket, "object", versionId)).orElseThrow();
        assertThat(recorded.sites().get(SITE).status()).isEqualTo(ReplicationStatus.COMPLETED);

        // Issue 16: each stage wrote a JSON line about this version, all with its one correlation id.
        String correlationId = bucket + "/object/" + versionId;
        Map<String, JsonNode> stages = new LinkedHashMap<>();
        stages.put("populator", aboutTheVersion(Files.readAllLines(work.resolve("populator.log")), correlationId, 1).getFirst());
        // The replicator's two: its decision at the site, with what it was made from, and the version's outcome.
        List<JsonNode> replicated = aboutTheVersion(replicator, correlationId, 2);
        assertThat(replicated.getFirst().path("message").asText()).contains("COPY_SERVER_SIDE from Facts[");
        stages.put("replicator decision", replicated.getFirst());
        stages.put("replicator", replicated.getLast());
        stages.put("status", aboutTheVersion(status, correlationId, 1).getFirst());
        assertThat(stages.get("populator").path("message").asText()).contains("queued for [" + SITE + "]");
        assertThat(stages.get("replicator").path("message").asText()).contains("COMPLETED");
        assertThat(stages.get("replicator").path("site").asText()).isEqualTo(SITE);
        assertThat(stages.get("status").path("message").asText()).contains("COMPLETED recorded");
        assertThat(stages.get("replicator").path("function_request_id").asText()).as("Powertools' invocation fields").isEqualTo("probe-request-1");
        assertThat(stages.get("status").path("function_request_id").asText()).isEqualTo("probe-request-1");
        assertThat(stages.values()).allSatisfy(line -> {
            assertThat(line.path("level").asText()).isEqualTo("DEBUG");
            assertThat(line.path("bucket").asText()).isEqualTo(bucket);
            assertThat(line.path("versionId").asText()).isEqualTo(versionId);
            assertThat(line.path("timestamp").asText()).isNotBlank();
        });

        // The verifier, as its schedule invokes it: a run of the bucket started and walked to its end, clean.
        List<String> verifier = runToEnd("verifier", List.of(probeSource(MapEventHandlerProbe.class), VerifierHandler.class.getName(),
                "60", "{\"action\":\"start\",\"buckets\":[\"" + bucket + "\"]}"), Map.of());
        assertThat(verifier).anySatisfy(l -> assertThat(l).startsWith("RESULT {started=["));
        var runs = new DynamoDbVerifyRunStore(stack.dynamo, config.dynamodb().tables().verify()).recent(1);
        assertThat(runs).singleElement().satisfies(r -> {
            assertThat(r.phase()).as("verifier jar: %s", verifier).isEqualTo(VerifyRun.Phase.DONE);
            assertThat(r.clean()).isTrue();
            assertThat(r.bySite().get(SITE).identical()).isEqualTo(1);
        });

        Path retry = Files.writeString(work.resolve("retry.json"), "[{\"Bucket\":\"" + bucket + "\",\"Key\":\"object\",\"VersionId\":\""
                + versionId + "\",\"StorageClass\":\"" + SITE + "\",\"ForceRetry\":true}]");
        List<String> ops = runToEnd("ops", List.of(probeSource(HttpEventHandlerProbe.class), OpsHandler.class.getName(),
                "GET /_/healthcheck", "POST /_/crr/failed @" + retry, "GET /_/crr/status"), Map.of());
        assertThat(ops).filteredOn(l -> l.startsWith("RESPONSE ")).hasSize(3);
        assertThat(ops).anySatisfy(l -> assertThat(l).startsWith("RESPONSE 200 ").contains("\"kafka\":\"ok\"")
                .contains(config.kafka().replicationTopic()).contains(config.kafka().statusTopic()));
        assertThat(ops).anySatisfy(l -> assertThat(l).startsWith("RESPONSE 200 ").contains(versionId));
        assertThat(ops).anySatisfy(l -> assertThat(l).isEqualTo("RESPONSE 200 {\"" + SITE + "\":\"enabled\"}"));
        // The forced retry queued the version again.
        List<ConsumerRecord<String, byte[]>> requeued = records(config.kafka().replicationTopic(), 2, Duration.ofSeconds(30));
        assertThat(requeued).hasSize(2);
        assertThat(requeued.getLast().key()).isEqualTo(queued.key());
    }

    @ParameterizedTest
    @ValueSource(strings = {"replicator", "ops", "populator"})
    void kafkaClientsOfTheJarAuthenticateToMskWithIam(String function) throws Exception {
        List<String> output = runToEnd(function, List.of(probeSource(MskIamAuthProbe.class),
                        "b-1.backbeat.abc123.c2.kafka.us-east-1.amazonaws.com", "127.0.0.1:" + EmbeddedKafka.freePort()),
                Map.of("AWS_ACCESS_KEY_ID", "AKIAJARSPROBE", "AWS_SECRET_ACCESS_KEY", "jars-probe-secret"));
        assertThat(output).anySatisfy(l -> assertThat(l).startsWith("SIGNED ").contains("\"action\":\"kafka-cluster:Connect\"")
                .contains("AKIAJARSPROBE/"));
        assertThat(output).contains("PRODUCER built");
    }

    /** A stage's JSON log lines with this correlation id, {@code expected} of them (the deployed jars log one JSON object a line). */
    private static List<JsonNode> aboutTheVersion(List<String> output, String correlationId, int expected) {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = output.stream().filter(l -> l.startsWith("{") && l.contains(correlationId)).map(l -> {
            try {
                return json.readTree(l);
            } catch (IOException e) {
                throw new AssertionError("not a JSON line: " + l, e);
            }
        }).filter(l -> l.path("correlation_id").asText().equals(correlationId)).toList();
        // Ours only: a client's own line logged while the version's keys are set would carry them too.
        List<JsonNode> ours = lines.stream().filter(l -> l.path("message").asText().contains(correlationId.substring(correlationId.lastIndexOf('/') + 1)))
                .toList();
        assertThat(ours).as("our JSON lines with correlation_id %s in %s", correlationId, output).hasSize(expected);
        assertThat(lines).as("nothing but ours at DEBUG: the clients' loggers stay at WARN").hasSize(expected);
        return ours;
    }

    /** The probe's source and its arguments: the handler class, the topic, and a file per record. */
    private List<String> kafkaEventProbe(Class<?> handler, String topic, ConsumerRecord<String, byte[]> record) throws IOException {
        Path file = Files.createTempFile(work, "record-", ".txt");
        Base64.Encoder base64 = Base64.getEncoder();
        Files.writeString(file, base64.encodeToString(record.key().getBytes(StandardCharsets.UTF_8)) + "\n"
                + base64.encodeToString(record.value()) + "\n");
        return List.of(probeSource(KafkaEventHandlerProbe.class), handler.getName(), topic, file.toString());
    }

    /** Runs {@code command} on the function's jar until it exits; fails with its output unless it exits 0. */
    private List<String> runToEnd(String function, List<String> command, Map<String, String> env) throws Exception {
        Path log = work.resolve(function + "-" + UUID.randomUUID() + ".log");
        Process process = start(function, command, env, log);
        boolean exited = process.waitFor(CHILD_DEADLINE.toSeconds(), TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly().waitFor();
        }
        assertThat(exited && process.exitValue() == 0).as("%s jar: %s", function, log(log)).isTrue();
        return Files.readAllLines(log);
    }

    /** {@code java -cp functions/<function>/target/lambda.jar <command>}, with the configuration in the environment. */
    private static Process start(String function, List<String> command, Map<String, String> env, Path log) throws IOException {
        List<String> line = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "--enable-native-access=ALL-UNNAMED", "-cp", lambdaJar(function).toString()));
        line.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> environment = new HashMap<>(env);
        environment.put("BACKBEAT_CONFIG_JSON", config.toJson());
        environment.put("AWS_REGION", "us-east-1");
        // A line per version and stage (the jars log JSON through Powertools' layout; INFO alone leaves these out).
        environment.putIfAbsent("BACKBEAT_LOG_LEVEL", "DEBUG");
        builder.environment().putAll(environment);
        return builder.start();
    }

    private static Path lambdaJar(String function) {
        Path jar = moduleRoot().resolve("functions").resolve(function).resolve("target").resolve("lambda.jar");
        assertThat(jar).as("the deployment jar is built at package: ./mvnw package -pl functions/" + function).exists();
        return jar;
    }

    /** Probes run from source (the launcher compiles them against the jar alone): no class of this module's class path. */
    private static String probeSource(Class<?> probe) {
        return moduleRoot().resolve("tests/src/test/java").resolve(probe.getName().replace('.', '/') + ".java").toString();
    }

    private static Path moduleRoot() {
        Path dir = Path.of("").toAbsolutePath();
        return Files.exists(dir.resolve("functions")) ? dir : dir.getParent();
    }

    /** The topic's first {@code count} records, or fewer if they are not all there within {@code timeout}. */
    private static List<ConsumerRecord<String, byte[]>> records(String topic, int count, Duration timeout) {
        Map<String, Object> properties = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (var consumer = new KafkaConsumer<>(properties, new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records.subList(0, Math.min(count, records.size()));
        }
    }

    private static String log(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "(no output)";
        } catch (IOException e) {
            return "(unreadable output: " + e + ")";
        }
    }
}
