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
import software.amazon.awssdk.services.s3.model.CompletedPart;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import java.util.ArrayList;
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

    /**
     * A multipart object has no MD5 of its whole (its ETag is the MD5 of the parts' MD5s), and CloudServer's data route
     * refuses a body without one: against a real CloudServer 8.8 such a version ended FAILED (issue 13). As Backbeat
     * does, each of the source's locations is read by range and written with its own MD5.
     */
    @Test
    void aMultipartVersionIsWrittenLocationByLocationEachWithItsOwnMd5() throws Exception {
        requests.clear();
        String bucket = stack.newVersionedBucket("zenko-mpu");
        byte[] first = StackClients.randomBytes(5 << 20);
        byte[] second = StackClients.randomBytes(1 << 20);
        String upload = stack.source.createMultipartUpload(r -> r.bucket(bucket).key("big.bin")).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        for (byte[] part : List.of(first, second)) {
            int number = parts.size() + 1;
            parts.add(CompletedPart.builder().partNumber(number).eTag(stack.source.uploadPart(r -> r.bucket(bucket).key("big.bin")
                    .uploadId(upload).partNumber(number), RequestBody.fromBytes(part)).eTag()).build());
        }
        String s3Version = stack.source.completeMultipartUpload(r -> r.bucket(bucket).key("big.bin").uploadId(upload)
                .multipartUpload(m -> m.parts(parts))).versionId();
        String md5First = md5(first);
        String md5Second = md5(second);
        ObjectNode document = ObjectMetadata.builder("big.bin", s3Version).contentLength(first.length + second.length)
                .contentMd5("8f480e114dd5f0ce960cf52464dc1f91-2")
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                        List.of(new ObjectMetadata.Backend("zenko", ReplicationStatus.PENDING, "")),
                        List.of("DATA", "METADATA"), "arn:aws:s3:::zenko-dest", "zenko", StackClients.ROLE))
                .build().toJson();
        // As CloudServer records a two-part upload (shared/reference/cloudserver-object-metadata-mpu.json).
        document.putArray("location")
                .add(MAPPER.createObjectNode().put("key", "p1").put("size", first.length).put("start", 0).put("dataStoreName", "file")
                        .put("dataStoreETag", "1:" + md5First))
                .add(MAPPER.createObjectNode().put("key", "p2").put("size", second.length).put("start", first.length).put("dataStoreName", "file")
                        .put("dataStoreETag", "2:" + md5Second));
        ReplicationEntry entry = new ReplicationEntry("put", bucket, new VersionKey("big.bin", s3Version), ObjectMetadata.of(document), null);
        BackbeatConfig config = stack.config.withAddedSites(List.of(new SiteConfig("zenko", SiteConfig.TYPE_SCALITY,
                stack.config.source().endpoint().withPort(routes.port()), null, true)));

        BatchReplicator.BatchResult result;
        try (BatchReplicator replicator = BatchReplicator.create(config, "zenko", Clock.systemUTC())) {
            result = replicator.replicate(event(entry));
        }

        assertThat(result.completed()).isEqualTo(1);
        assertThat(requests).extracting(Recorded::path).containsExactly("/_/backbeat/data/zenko-dest/big.bin",
                "/_/backbeat/data/zenko-dest/big.bin", "/_/backbeat/metadata/zenko-dest/big.bin");
        assertThat(requests.get(0).body()).isEqualTo(first);
        assertThat(header(requests.get(0), "Content-MD5")).isEqualTo(md5First);
        assertThat(requests.get(1).body()).isEqualTo(second);
        assertThat(header(requests.get(1), "Content-MD5")).isEqualTo(md5Second);
        JsonNode written = MAPPER.readTree(requests.get(2).body());
        assertThat(written.path("location")).hasSize(2);
        assertThat(written.at("/location/0/start").asLong()).isZero();
        assertThat(written.at("/location/0/size").asLong()).isEqualTo(first.length);
        assertThat(written.at("/location/0/dataStoreETag").asText()).isEqualTo("1:" + md5First);
        assertThat(written.at("/location/1/start").asLong()).isEqualTo(first.length);
        assertThat(written.at("/location/1/size").asLong()).isEqualTo(second.length);
        assertThat(written.at("/location/1/dataStoreETag").asText()).isEqualTo("2:" + md5Second);
        assertThat(written.path("content-md5").asText()).as("the object's own ETag is kept").isEqualTo("8f480e114dd5f0ce960cf52464dc1f91-2");
    }

    private static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
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
