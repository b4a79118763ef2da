package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.TableSchemas;
import io.backbeatserverless.ops.OpsClient;
import io.backbeatserverless.ops.OpsHttpServer;
import io.backbeatserverless.ops.OpsRuntime;
import io.backbeatserverless.ops.SigV4Verifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.maps;
import static org.quicktheories.generators.SourceDSL.strings;

/**
 * Issue 32: the ops API's fuzz campaign, with QuickTheories' generators and shrinking, seeded (the same cases every run).
 * Its target is an ops API of its own (the stack's code as {@code OpsRuntime} builds it, behind the local HTTP server
 * and its verifier) on the stack's DynamoDB and Kafka with every table of its own, so that a generated pause, rule or
 * verify run touches nothing the stack uses. Every route, with generated paths, methods, query strings, headers and
 * bodies (JSON of wrong types, huge numbers such as {@code 1e308}, deep nesting, invalid UTF-8, strings near and over the
 * size limit), signed and unsigned. For each answer: no 5xx (nothing generated here is the server's fault), no hang,
 * no exception text, and every 4xx a JSON error with a message; for a body with one field spoiled, naming that field.
 */
class OpsApiFuzzTest extends StackScenario {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** What a stack trace or an exception's text in a response looks like. */
    private static final Pattern EXCEPTION_TEXT = Pattern.compile(
            "Exception|\\bat (java|io|com|org|software)\\.|java\\.|jackson|StreamRead|\\$\\d|NullPointer|Caused by");
    private static final AtomicInteger CASES = new AtomicInteger();

    private static OpsRuntime runtime;
    private static OpsHttpServer server;
    private static OpsClient signed;
    private static OpsClient unsigned;
    private static List<String> sites;

    @BeforeAll
    static void startAnOpsApiOfItsOwn() throws Exception {
        BackbeatConfig shared = SharedStack.stack().config();
        BackbeatConfig.TableNames tables = new BackbeatConfig.TableNames("fuzz-status", "fuzz-failed", "fuzz-site-state", "fuzz-checkpoints",
                "fuzz-metrics", "fuzz-rules", "fuzz-verify");
        TableSchemas.createMissing(stack.dynamo, tables, Duration.ofSeconds(30));
        BackbeatConfig config = shared.withDynamodb(new BackbeatConfig.DynamoDbSettings(shared.dynamodb().endpoint(), tables));
        runtime = OpsRuntime.create(config, (site, enabled) -> { }, Clock.systemUTC());
        server = new OpsHttpServer("127.0.0.1", 0, runtime.api(), new SigV4Verifier(config.ops().credentials(), Clock.systemUTC()));
        URI endpoint = URI.create("http://127.0.0.1:" + server.port());
        signed = new OpsClient(endpoint, "accessKey1", "verySecretKey1", "us-east-1");
        unsigned = new OpsClient(endpoint, null, null, "us-east-1");
        sites = config.siteNames();
    }

    @AfterAll
    static void stop() throws Exception {
        System.out.printf("ops API fuzz: %d cases%n", CASES.get());
        if (server != null) {
            server.close();
        }
        if (runtime != null) {
            runtime.close();
        }
        // QuickTheories skips a value it has tried: the examples asked for are more than the cases sent.
        assertThat(CASES.get()).as("cases a run (issue 32: at least 5,000)").isGreaterThanOrEqualTo(5_000);
    }

    /** A request to any route: its method, path, query, headers and body, each generated; signed or not. */
    record FuzzRequest(String method, String path, Map<String, String> query, Map<String, String> headers, byte[] body, boolean isSigned) {
        @Override
        public String toString() {
            return method + " " + (path.length() > 300 ? path.substring(0, 300) + "…" : path) + " " + query + " " + headers
                    + (isSigned ? " signed" : " unsigned") + " body=" + describe(body);
        }
    }

    /** A body for a route that reads one, with one field spoiled (replaced, or left out). */
    record SpoiledBody(String method, String path, String field, String json) {
        @Override
        public String toString() {
            return method + " " + path + " field " + field + ": " + describe(json.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void anyRouteAnyMethodPathQueryHeadersAndBody() {
        qt().withFixedSeed(32).withExamples(3000).withShrinkCycles(50).forAll(requests()).checkAssert(request -> {
            OpsClient.Reply reply = send(request.isSigned() ? signed : unsigned, request.method(), request.path(), request.query(),
                    request.headers(), request.body());
            check(request.toString(), request.method(), reply, null);
            boolean open = request.path().equals("/_/healthcheck") || request.method().equals("GET")
                    && (request.path().equals("/console") || request.path().startsWith("/console/") || request.path().equals("/favicon.ico"));
            if (!request.isSigned() && !open) {
                assertThat(reply.status()).as("unsigned: %s", request).isEqualTo(request.body() != null
                        && request.body().length > OpsHttpServer.MAX_BODY_BYTES ? 413 : 403);
            }
        });
    }

    @Test
    void everyBodyWithOneFieldSpoiledIsRefusedByThatFieldsName() {
        qt().withFixedSeed(3232).withExamples(2500).withShrinkCycles(50).forAll(spoiledBodies()).checkAssert(body -> {
            OpsClient.Reply reply = send(signed, body.method(), body.path(), Map.of(), Map.of(), body.json().getBytes(StandardCharsets.UTF_8));
            check(body.toString(), body.method(), reply, body.field());
        });
    }

    @Test
    void bodiesThatAreNotJsonOrNotTextOrTooBig() {
        Gen<String> routes = Generate.pick(List.of("POST /_/crr/failed", "POST /_/crr/resume/all/schedule", "PUT /_/rules/fuzz-bucket",
                "POST /_/crr/verify", "POST /_/backfill/jobs"));
        qt().withFixedSeed(323232).withExamples(800).withShrinkCycles(50).forAll(routes, rawBodies()).checkAssert((route, raw) -> {
            String[] methodAndPath = route.split(" ", 2);
            OpsClient.Reply reply = send(signed, methodAndPath[0], methodAndPath[1], Map.of(), Map.of(), raw);
            check(route + " body=" + describe(raw), methodAndPath[0], reply, null);
            if (raw.length > OpsHttpServer.MAX_BODY_BYTES) {
                assertThat(reply.status()).as("a body over the limit").isEqualTo(413);
            } else {
                assertThat(reply.status()).as("%s body=%s -> %s", route, describe(raw), reply.body()).isEqualTo(400);
            }
        });
    }

    private static OpsClient.Reply send(OpsClient client, String method, String path, Map<String, String> query, Map<String, String> headers,
                                        byte[] body) {
        CASES.incrementAndGet();
        try {
            return client.call(method, path, query, headers, body);
        } catch (HttpTimeoutException e) {
            throw new AssertionError("no answer within the client's timeout (a hang): " + method + " " + path, e);
        } catch (Exception e) {
            throw new AssertionError("no answer (" + e + "): " + method + " " + path, e);
        }
    }

    private static void check(String request, String method, OpsClient.Reply reply, String spoiledField) {
        assertThat(reply.status()).as("no 5xx for a client's input: %s -> %s", request, reply.body()).isLessThan(500);
        if (method.equals("HEAD")) {
            return;
        }
        assertThat(EXCEPTION_TEXT.matcher(reply.body()).find()).as("exception text in %s -> %s", request, reply.body()).isFalse();
        if (reply.status() >= 400) {
            JsonNode error;
            try {
                error = MAPPER.readTree(reply.body());
            } catch (Exception e) {
                throw new AssertionError("an error that is not JSON: " + request + " -> " + reply.body(), e);
            }
            assertThat(error.path("code").asText()).as("an error code: %s -> %s", request, reply.body()).isNotBlank();
            assertThat(error.path("message").asText()).as("a message: %s -> %s", request, reply.body()).isNotBlank();
            if (spoiledField != null && reply.status() == 400) {
                assertThat(error.path("message").asText()).as("the message names the field: %s -> %s", request, reply.body())
                        .contains(spoiledField);
            }
        }
    }

    // ---- generators ----

    /** A path segment: a site's name, text of any script, percent-encoded bytes that are not UTF-8, dots, long runs. */
    private static Gen<String> segment() {
        return Generate.oneOf(Generate.pick(sites),
                Generate.pick(List.of("all", "..", ".", "%2E%2E", "%00", "%FF%FE", "%C0%AF", "a%2Fb", "%25", "%E2%82", "+", "%20")),
                strings().allPossible().ofLengthBetween(1, 40).map(SdkHttpUtils::urlEncode),
                strings().betweenCodePoints('a', 'z').ofLength(3000));
    }

    private static Gen<String> queryValue() {
        return Generate.oneOf(
                Generate.pick(List.of("", "true", "false", "1e308", "-1e308", "-1", "0", "NaN", "Infinity", "99999999999999999999999", "1.5",
                        "2026-13-45T99:99:99Z", "null", "[]", "{}", "%", "aws-location", "all")),
                strings().allPossible().ofLengthBetween(0, 30),
                strings().numericBetween(0, Integer.MAX_VALUE).map(n -> n.repeat(500)));
    }

    private static Gen<FuzzRequest> requests() {
        Gen<String> method = Generate.pick(List.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"));
        Gen<String> path = Generate.oneOf(
                Generate.pick(List.of("/", "/_", "/_/", "/_/healthcheck", "/_/monitoring/metrics", "/_/crr/failed", "/_/crr/status", "/_/rules",
                        "/_/crr/verify", "/_/crr/trigger-failures", "/_/crr/trigger-failures/replay", "/_/crr/source-events",
                        "/_/crr/source-events/redrive", "/_/backfill/jobs", "/_/backfill/progress", "/_/crr/resume/due", "/_/crr/pause",
                        "/_/crr/resume", "/console", "/console/x", "/favicon.ico", "//_/crr/status", "/_/crr/./status", "/_/crr/status/")),
                segment().map(s -> "/_/crr/status/" + s),
                segment().map(s -> "/_/crr/pause/" + s),
                segment().map(s -> "/_/crr/resume/" + s),
                segment().map(s -> "/_/crr/resume/" + s + "/schedule"),
                segment().map(s -> "/_/rules/" + s),
                segment().map(s -> "/_/crr/verify/" + s),
                segment().map(s -> "/_/crr/verify/" + s + "/findings"),
                segment().map(s -> "/_/backfill/jobs/" + s),
                segment().zip(Generate.pick(List.of("backlog", "completions", "failures", "throughput", "pending", "all", "history", "nonsense")),
                        (s, t) -> "/_/metrics/crr/" + s + "/" + t),
                segment().zip(segment(), segment(), (s, b, k) -> "/_/metrics/crr/" + s + "/progress/" + b + "/" + k),
                segment().zip(segment(), segment(), (b, k1, k2) -> "/_/crr/failed/" + b + "/" + k1 + "/" + k2),
                lists().of(segment()).ofSizeBetween(1, 6).map(l -> "/" + String.join("/", l)));
        Gen<Map<String, String>> query = maps().of(Generate.oneOf(Generate.pick(List.of("versionId", "sitename", "marker", "all", "site",
                        "limit", "from", "to", "hours", "maxKeys", "prefix", "bucket", "key", "page", "step")),
                strings().basicLatinAlphabet().ofLengthBetween(1, 12)), queryValue()).ofSizeBetween(0, 4);
        Gen<Map<String, String>> headers = maps().of(Generate.pick(List.of("Content-Type", "Accept", "X-Amz-Target", "X-Forwarded-For", "X-Fuzz",
                "Range", "If-Match", "Origin")), strings().betweenCodePoints(' ', '~').ofLengthBetween(0, 200)).ofSizeBetween(0, 3);
        Gen<byte[]> body = Generate.oneOf(Generate.constant((byte[]) null), jsonValue(4).map(j -> j.getBytes(StandardCharsets.UTF_8)), rawBodies());
        Gen<Boolean> isSigned = Generate.pick(List.of(true, true, true, false));
        return method.zip(path, query, headers, (m, p, q, h) -> new Object[]{m, p, q, h})
                .zip(body, isSigned, (parts, b, s) -> new FuzzRequest((String) parts[0], (String) parts[1], cast(parts[2]), cast(parts[3]), b, s));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> cast(Object map) {
        return (Map<String, String>) map;
    }

    /** Bodies that are not JSON or not text: any bytes, invalid UTF-8, deep nesting, long runs, over the limit. */
    private static Gen<byte[]> rawBodies() {
        return Generate.oneOf(
                Generate.byteArrays(Generate.range(1, 200), Generate.bytes(Byte.MIN_VALUE, Byte.MAX_VALUE, (byte) 0)),
                Generate.pick(List.of(new byte[]{(byte) 0xC3, (byte) 0x28}, new byte[]{'"', (byte) 0xFF, '"'}, new byte[]{'{', (byte) 0x80, '}'})),
                integers().between(1001, 20_000).map(depth -> ("[".repeat(depth) + "]".repeat(depth)).getBytes(StandardCharsets.US_ASCII)),
                integers().between(1001, 20_000).map(depth -> ("{\"a\":".repeat(depth) + "1" + "}".repeat(depth)).getBytes(StandardCharsets.US_ASCII)),
                Generate.pick(List.of(900_000, (1 << 20) + 1, 10 * (1 << 20))).map(n -> ("\"" + "x".repeat(n) + "\"").getBytes(StandardCharsets.US_ASCII)));
    }

    /** Any JSON value, nested up to {@code depth}. */
    private static Gen<String> jsonValue(int depth) {
        Gen<String> scalar = Generate.oneOf(
                Generate.pick(List.of("null", "true", "false", "0", "-1", "1e308", "-1e308", "1e-308", "123456789012345678901234567890", "0.5", "-0")),
                strings().allPossible().ofLengthBetween(0, 30).map(OpsApiFuzzTest::quote));
        if (depth == 0) {
            return scalar;
        }
        return Generate.oneOf(scalar,
                lists().of(jsonValue(depth - 1)).ofSizeBetween(0, 4).map(l -> "[" + String.join(",", l) + "]"),
                maps().of(Generate.pick(List.of("Bucket", "Key", "VersionId", "StorageClass", "hours", "Site", "Sites", "Prefix", "x")),
                        jsonValue(depth - 1)).ofSizeBetween(0, 4).map(OpsApiFuzzTest::object));
    }

    /** A value to put in place of a field's: of another type, at a number's edges, deep, long, or not text. */
    private static Gen<String> spoiledValue() {
        return Generate.oneOf(
                Generate.pick(List.of("null", "true", "false", "0", "-1", "1e308", "-1e308", "1e-308", "123456789012345678901234567890", "-0", "0.5",
                        "\"\"", "\" \"", "[]", "{}", "[1,2]", "{\"a\":1}", "\"\\u0000\"", "\"\\ud800\"", "\"../../etc\"")),
                integers().between(100, 5000).map(d -> "[".repeat(d) + "]".repeat(d)),
                strings().allPossible().ofLengthBetween(0, 30).map(OpsApiFuzzTest::quote),
                Generate.constant(quote("x".repeat(900_000))));
    }

    private static Gen<SpoiledBody> spoiledBodies() {
        Map<String, Map<String, String>> templates = new LinkedHashMap<>();
        templates.put("POST /_/crr/failed", Map.of("Bucket", quote("fuzz-bucket"), "Key", quote("k"), "VersionId", quote("v1"),
                "StorageClass", quote("aws-location"), "ForceRetry", "false"));
        templates.put("POST /_/crr/resume/all/schedule", Map.of("hours", "2"));
        templates.put("POST /_/crr/verify", Map.of("Bucket", quote("fuzz-bucket"), "Sites", "[\"aws-location\"]", "Prefix", quote(""),
                "Repair", "false", "StuckAfterSeconds", "60", "Deep", "false", "SampleFraction", "0.01"));
        templates.put("POST /_/backfill/jobs", Map.of("Bucket", quote("fuzz-bucket"), "Prefix", quote("p/"), "Sites", "[\"aws-location\"]"));
        templates.put("PUT /_/rules/fuzz-bucket", Map.of("Role", quote("arn:aws:iam::123456789012:role/r"), "Rules",
                "[{\"ID\":\"r\",\"Status\":\"Enabled\",\"Priority\":1,\"Filter\":{\"Prefix\":\"\"},\"DeleteMarkerReplication\":{\"Status\":\"Enabled\"},"
                        + "\"Destination\":{\"Bucket\":\"arn:aws:s3:::fuzz-bucket\",\"StorageClass\":\"aws-location\"}}]"));
        List<String[]> fields = new ArrayList<>();
        templates.forEach((route, template) -> template.keySet().forEach(field -> fields.add(new String[]{route, field})));
        return Generate.pick(fields).zip(spoiledValue(), Generate.pick(List.of(true, true, true, false)), (routeAndField, value, replace) -> {
            Map<String, String> body = new LinkedHashMap<>(templates.get(routeAndField[0]));
            if (replace) {
                body.put(routeAndField[1], value);
            } else {
                body.remove(routeAndField[1]);
            }
            String json = routeAndField[0].equals("POST /_/crr/failed") ? "[" + object(body) + "]" : object(body);
            String[] methodAndPath = routeAndField[0].split(" ", 2);
            return new SpoiledBody(methodAndPath[0], methodAndPath[1], routeAndField[1], json);
        });
    }

    private static String object(Map<String, String> fields) {
        StringBuilder json = new StringBuilder("{");
        fields.forEach((name, value) -> json.append(json.length() > 1 ? "," : "").append(quote(name)).append(':').append(value));
        return json.append('}').toString();
    }

    private static String quote(String text) {
        try {
            return MAPPER.writeValueAsString(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String describe(byte[] body) {
        return body == null ? "none" : body.length > 300 ? body.length + " bytes" : new String(body, StandardCharsets.UTF_8);
    }
}
