package io.backbeatserverless.tests;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import io.backbeatserverless.adapters.cloudserver.CloudServerBackbeatRoutes;
import io.backbeatserverless.adapters.cloudserver.CloudServerSourceStatusWriter;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.Endpoint;
import io.backbeatserverless.adapters.dynamodb.DynamoDbFailedEntryStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbMetricsStore;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.status.StatusRecorder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.entry.VersionKey;
import io.backbeatserverless.core.metadata.CloudServerVersionIds;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;
import io.backbeatserverless.replicator.BatchReplicator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The requests a {@code scality} (CloudServer / Zenko) site receives, checked against the contract in
 * {@code shared/reference/backbeat-api.md}. No CloudServer runs on this machine, so the backbeat routes are
 * stood in for by a recording HTTP server answering as the reference says and, like CloudServer, never
 * answering {@code Expect: 100-continue}; the source is the stack's real S3 server. This checks the request
 * shapes (paths, version id, headers, SigV4, bodies, order) and that no request waits for a continue that
 * never comes.
 */
class CloudServerSiteContractTest extends StackScenario {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static CloudServerLikeServer routes;
    private static final List<Recorded> requests = new CopyOnWriteArrayList<>();

    record Recorded(String method, String path, String query, Map<String, List<String>> headers, byte[] body) {
    }

    @BeforeAll
    static void start() throws Exception {
        routes = new CloudServerLikeServer(request -> {
            requests.add(new Recorded(request.method(), request.path(), request.query(), request.headers(), request.body()));
            byte[] answer;
            if (request.path().contains("/refused")) {
                // CloudServer answers its backbeat routes' errors in JSON.
                return new CloudServerLikeServer.Answer(400, "{\"code\":\"BadDigest\",\"message\":\"content-md5 is required\"}"
                        .getBytes(StandardCharsets.UTF_8));
            }
            if (request.path().startsWith("/_/backbeat/data/")) {
                answer = "[{\"key\":\"a1b2c3\",\"dataStoreName\":\"us-east-1\",\"dataStoreType\":\"scality\"}]".getBytes(StandardCharsets.UTF_8);
            } else if (request.method().equals("GET")) {
                // The recorded CloudServer metadata of srcbucket/obj1 (shared/reference), as GET /_/backbeat/metadata answers.
                String recorded = Files.readString(Path.of("../functions/core/src/test/resources/cloudserver-object-metadata.json"));
                answer = MAPPER.writeValueAsBytes(Map.of("Body", recorded));
            } else {
                answer = "{}".getBytes(StandardCharsets.UTF_8);
            }
            return new CloudServerLikeServer.Answer(200, answer);
        });
    }

    @AfterAll
    static void stop() throws Exception {
        routes.close();
    }

    @Test
    void writesDataThenTheFullMetadataUnderTheSourceVersionId() throws Exception {
        requests.clear();
        String bucket = stack.newVersionedBucket("zenko-src");
        byte[] body = "replicated to zenko".getBytes(StandardCharsets.UTF_8);
        String s3Version = stack.source.putObject(r -> r.bucket(bucket).key("dir/ünï key"), RequestBody.fromBytes(body)).versionId();
        String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body));
        ObjectMetadata metadata = ObjectMetadata.builder("dir/ünï key", s3Version).contentLength(body.length).contentMd5(md5)
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                        List.of(new ObjectMetadata.Backend("zenko", ReplicationStatus.PENDING, "")),
                        List.of("DATA", "METADATA"), "arn:aws:s3:::zenko-dest", "zenko", StackClients.ROLE))
                .build();
        ReplicationEntry entry = new ReplicationEntry("put", bucket, new VersionKey("dir/ünï key", s3Version), metadata, null);
        BackbeatConfig config = stack.config.withAddedSites(List.of(new SiteConfig("zenko", SiteConfig.TYPE_SCALITY,
                stack.config.source().endpoint().withPort(routes.port()), null, true)));

        BatchReplicator.BatchResult result;
        long started = System.nanoTime();
        try (BatchReplicator replicator = BatchReplicator.create(config, "zenko", Clock.systemUTC())) {
            result = replicator.replicate(event(entry));
        }
        // A client waiting for 100 Continue stalls 3 s on each PUT: a data and a metadata PUT took over 6 s.
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("no stall on the PUTs").isLessThan(Duration.ofMillis(2500));

        assertThat(result.completed()).isEqualTo(1);
        assertThat(requests).hasSize(2);
        Recorded data = requests.get(0);
        assertThat(data.method()).isEqualTo("PUT");
        assertThat(data.path()).isEqualTo("/_/backbeat/data/zenko-dest/dir/%C3%BCn%C3%AF%20key");
        assertThat(data.query()).isEqualTo("v2");
        assertThat(data.body()).isEqualTo(body);
        assertThat(header(data, "Content-MD5")).isEqualTo(md5);
        assertThat(header(data, "Authorization")).startsWith("AWS4-HMAC-SHA256 Credential=accessKey1/")
                .contains("/us-east-1/s3/aws4_request");

        Recorded md = requests.get(1);
        assertThat(md.path()).isEqualTo("/_/backbeat/metadata/zenko-dest/dir/%C3%BCn%C3%AF%20key");
        assertThat(md.query()).isEqualTo("versionId=" + CloudServerVersionIds.toExternal(s3Version));
        JsonNode written = MAPPER.readTree(md.body());
        assertThat(written.path("versionId").asText()).isEqualTo(s3Version);
        assertThat(written.at("/replicationInfo/status").asText()).isEqualTo("REPLICA");
        assertThat(written.at("/location/0/key").asText()).isEqualTo("a1b2c3");
        assertThat(written.at("/location/0/size").asLong()).isEqualTo(body.length);
        assertThat(written.at("/location/0/dataStoreETag").asText()).isEqualTo("1:" + md5);
        assertThat(header(md, "Authorization")).startsWith("AWS4-HMAC-SHA256 ");
        assertThat(header(md, "x-amz-content-sha256")).as("the metadata body is signed").matches("[0-9a-f]{64}");
    }

    @Test
    void theStatusProcessorWritesTheSitesStatusBackIntoACloudServerSourceVersion() throws Exception {
        requests.clear();
        var dynamo = stack.dynamo;
        var tables = stack.config.dynamodb().tables();
        Endpoint cloudServer = stack.config.source().endpoint().withPort(routes.port());
        try (CloudServerBackbeatRoutes backbeat = new CloudServerBackbeatRoutes(cloudServer, 4);
             StatusRecorder recorder = new StatusRecorder(new DynamoDbReplicationStatusStore(dynamo, tables.status(), Clock.systemUTC()),
                     new DynamoDbFailedEntryStore(dynamo, tables.failedEntries()), new DynamoDbMetricsStore(dynamo, tables.metrics()),
                     new CloudServerSourceStatusWriter(backbeat), Duration.ofHours(24), Clock.systemUTC(), () -> {
             })) {
            KafkaEvent event;
            try (var in = Files.newInputStream(Path.of("../events/status-kafka-batch.json"))) {
                event = LambdaEventSerializers.serializerFor(KafkaEvent.class, getClass().getClassLoader()).fromJson(in);
            }
            long started = System.nanoTime();
            StatusRecorder.BatchResult result = recorder.record(event);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the write-back does not stall (3 s before)")
                    .isLessThan(Duration.ofMillis(1500));
            assertThat(result.recorded() + result.unchanged()).isEqualTo(1);
        }
        String external = CloudServerVersionIds.toExternal("98204407893972999999RG001  0");
        assertThat(requests).extracting(Recorded::method).containsExactly("GET", "PUT");
        assertThat(requests).allSatisfy(r -> {
            assertThat(r.path()).isEqualTo("/_/backbeat/metadata/srcbucket/obj1");
            assertThat(r.query()).isEqualTo("versionId=" + external);
            assertThat(header(r, "Authorization")).startsWith("AWS4-HMAC-SHA256 ");
        });
        Recorded put = requests.get(1);
        assertThat(header(put, "x-scal-replication-content")).isEqualTo("METADATA");
        JsonNode written = MAPPER.readTree(put.body());
        assertThat(written.at("/replicationInfo/status").asText()).isEqualTo("COMPLETED");
        assertThat(written.at("/replicationInfo/backends/0/site").asText()).isEqualTo("aws-location");
        assertThat(written.at("/replicationInfo/backends/0/status").asText()).isEqualTo("COMPLETED");
        assertThat(written.at("/location/0/key").asText()).as("the rest of the document is kept").isEqualTo("40ebcacf54391100e1e403605bc41f4a0c91a613");
    }

    /** A refusal's reason carries what CloudServer said (its JSON error), not just the HTTP status. */
    @Test
    void aRefusalsReasonSaysWhatCloudServerSaid() {
        Endpoint cloudServer = stack.config.source().endpoint().withPort(routes.port());
        try (CloudServerBackbeatRoutes backbeat = new CloudServerBackbeatRoutes(cloudServer, 2)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> backbeat.putData("b", "refused", new java.io.ByteArrayInputStream(new byte[3]),
                    3, null, null)).satisfies(e -> assertThat(io.backbeatserverless.replicator.ReplicationErrors.describe(e))
                    .isEqualTo("BadDigest (HTTP 400): content-md5 is required (PUT /_/backbeat/data/b/refused)"));
        }
    }

    private static String header(Recorded r, String name) {
        return r.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(e -> e.getValue().getFirst())
                .findFirst().orElse(null);
    }

    private static KafkaEvent event(ReplicationEntry entry) {
        KafkaEvent event = new KafkaEvent();
        event.setRecords(Map.of("backbeat-replication-0", List.of(KafkaEvent.KafkaEventRecord.builder()
                .withTopic("backbeat-replication").withPartition(0).withOffset(0)
                .withKey(Base64.getEncoder().encodeToString(entry.messageKey().getBytes(StandardCharsets.UTF_8)))
                .withValue(Base64.getEncoder().encodeToString(EntryCodec.encode(entry))).build())));
        return event;
    }
}
