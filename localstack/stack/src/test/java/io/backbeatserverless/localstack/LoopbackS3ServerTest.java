package io.backbeatserverless.localstack;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.Endpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The stack's S3 server in its own JVM, as the stack runs it: object bytes on disk, whole bodies, faults on demand. */
class LoopbackS3ServerTest {

    private static ChildProcess server;
    private static S3Client s3;
    private static String endpoint;

    @BeforeAll
    static void start() throws Exception {
        int port = EmbeddedKafka.freePort();
        server = S3ServerProcess.start("test-s3", "127.0.0.1", port, "512m", "256m", LocalS3Services.ObjectBytes.DISK, null);
        endpoint = "http://127.0.0.1:" + port;
        s3 = AwsClients.s3(new Endpoint(endpoint, "us-east-1", "accessKey1", "verySecretKey1"), 4, false);
        s3.createBucket(r -> r.bucket("faults"));
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aBodyOfManyChunksIsStoredWholeInAFileAndReadBackInRanges() throws Exception {
        byte[] body = new byte[24 << 20]; // netty delivers it in ~3,000 chunks of 8 KiB
        new Random(3).nextBytes(body);
        s3.putObject(r -> r.bucket("faults").key("big"), RequestBody.fromBytes(body));

        byte[] firstHalf = s3.getObjectAsBytes(r -> r.bucket("faults").key("big").range("bytes=0-" + (body.length / 2 - 1))).asByteArray();
        byte[] secondHalf = s3.getObjectAsBytes(r -> r.bucket("faults").key("big").range("bytes=" + body.length / 2 + "-")).asByteArray();
        MessageDigest read = MessageDigest.getInstance("SHA-256");
        read.update(firstHalf);
        read.update(secondHalf);
        assertThat(read.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(body));
        // The bytes are in a file under the server's directory, not on its heap.
        try (var directories = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(directories.filter(d -> d.getFileName().toString().startsWith("local-s3-test-s3-")).anyMatch(d -> {
                try (var files = Files.walk(d)) {
                    return files.anyMatch(f -> f.toFile().isFile() && f.toFile().length() == body.length);
                } catch (java.io.IOException e) {
                    return false;
                }
            })).as("a file holds the object").isTrue();
        }
    }

    @Test
    void faultsAreInjectedOnDemandAndStopWhenTurnedOff() throws Exception {
        s3.putObject(r -> r.bucket("faults").key("k"), RequestBody.fromString("v"));

        String before = server.request("faults 503=100", "FAULTS", Duration.ofSeconds(10));
        assertThatThrownBy(() -> s3.getObjectAsBytes(r -> r.bucket("faults").key("k")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(503);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("SlowDown");
                });
        // A PUT refused before its body is sent, as S3 does: the connection is closed and the next request still works.
        assertThatThrownBy(() -> s3.putObject(r -> r.bucket("faults").key("k"), RequestBody.fromString("refused")))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(503));

        server.request("faults reset=100", "FAULTS", Duration.ofSeconds(10));
        assertThatThrownBy(() -> s3.headObject(r -> r.bucket("faults").key("k"))).isInstanceOf(SdkClientException.class);

        String report = server.request("faults off", "FAULTS", Duration.ofSeconds(10));
        assertThat(injected(report, "503") - injected(before, "503")).isEqualTo(2);
        assertThat(injected(report, "reset") - injected(before, "reset")).isEqualTo(1);
        assertThat(s3.getObjectAsBytes(r -> r.bucket("faults").key("k")).asUtf8String()).isEqualTo("v");
    }

    /**
     * Found by the chaos run (issue 12): a 503 to a HEAD carried its XML body, which a HEAD's answer must not. The client
     * left those bytes on the connection, read them as the start of the next answer on it, and waited out its socket
     * timeout (60 s: the stalls under faults); the request it then retried had been done (two delete markers for one).
     */
    @Test
    void anErrorAnswerToAHeadHasNoBodySoTheConnectionStaysUsable() throws Exception {
        s3.putObject(r -> r.bucket("faults").key("headed"), RequestBody.fromString("v"));
        try (S3Client oneConnection = S3Client.builder().region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("accessKey1", "verySecretKey1")))
                .endpointOverride(java.net.URI.create(endpoint)).forcePathStyle(true)
                .httpClientBuilder(software.amazon.awssdk.http.apache.ApacheHttpClient.builder().maxConnections(1)
                        .socketTimeout(Duration.ofSeconds(5)))
                .overrideConfiguration(c -> c.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry()))
                .build()) {
            oneConnection.headObject(r -> r.bucket("faults").key("headed"));
            server.request("faults 503=100", "FAULTS", Duration.ofSeconds(10));
            assertThatThrownBy(() -> oneConnection.headObject(r -> r.bucket("faults").key("headed")))
                    .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(503));
            server.request("faults off", "FAULTS", Duration.ofSeconds(10));

            long started = System.nanoTime();
            assertThat(oneConnection.headObject(r -> r.bucket("faults").key("headed")).contentLength()).isEqualTo(1);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("answered at once, on the same connection").isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void aLostAnswerIsARequestDoneWhoseAnswerNeverArrives() throws Exception {
        s3.createBucket(r -> r.bucket("lost"));
        s3.putBucketVersioning(r -> r.bucket("lost").versioningConfiguration(v -> v.status(software.amazon.awssdk.services.s3.model.BucketVersioningStatus.ENABLED)));
        s3.putObject(r -> r.bucket("lost").key("k"), RequestBody.fromString("v"));

        String before = server.request("faults lost=100 only=DELETE", "FAULTS", Duration.ofSeconds(10));
        assertThatThrownBy(() -> s3.deleteObject(r -> r.bucket("lost").key("k"))).isInstanceOf(SdkClientException.class);
        assertThat(s3.listObjectVersions(r -> r.bucket("lost")).deleteMarkers()).as("the DELETE was done; only its answer was lost").hasSize(1);
        String after = server.request("faults off", "FAULTS", Duration.ofSeconds(10));
        assertThat(injected(after, "lost") - injected(before, "lost")).isEqualTo(1);
    }

    @Test
    void aVersionListingResumesAfterItsKeyMarkerWhetherOrNotThatKeyExists() {
        s3.createBucket(r -> r.bucket("listing"));
        s3.putBucketVersioning(r -> r.bucket("listing").versioningConfiguration(v -> v.status("Enabled")));
        for (String key : List.of("a", "c", "c", "e")) {
            s3.putObject(r -> r.bucket("listing").key(key), RequestBody.fromString(key));
        }
        // As S3: the marker itself is not listed again, a marker naming no key is fine, latest flags stay right.
        assertThat(keysAfter("c")).containsExactly("e:true");
        assertThat(keysAfter("b")).containsExactly("c:true", "c:false", "e:true");
        assertThat(keysAfter("0")).containsExactly("a:true", "c:true", "c:false", "e:true");
        assertThat(keysAfter("z")).isEmpty();
    }

    /**
     * A site listed over a source page's key range (a backfill page, a verify page) holds the same keys: its page ends
     * at the same last whole key, and that ends the range. Listing on read a second page of a thousand versions past it.
     */
    @Test
    void aRangeThatAPageEndsAtItsLastKeyIsListedInOneRequest() {
        s3.createBucket(r -> r.bucket("ranges"));
        s3.putBucketVersioning(r -> r.bucket("ranges").versioningConfiguration(v -> v.status("Enabled")));
        for (int i = 0; i < 10; i++) {
            String key = "k" + i;
            s3.putObject(r -> r.bucket("ranges").key(key), RequestBody.fromString(key));
        }
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        var listing = new io.backbeatserverless.adapters.aws.VersionListing(s3, requests::incrementAndGet);
        var page = listing.page("ranges", "", null, 5);
        requests.set(0);

        var range = listing.range("ranges", "", null, page.lastKey(), 5);

        assertThat(page.lastKey()).isEqualTo("k3"); // k4 ends the truncated page and may go on: left for the next
        assertThat(range).extracting(io.backbeatserverless.core.versions.KeyVersions::key).containsExactly("k0", "k1", "k2", "k3");
        assertThat(requests).hasValue(1);
        assertThat(listing.range("ranges", "", "k3", "k7", 5)).extracting(io.backbeatserverless.core.versions.KeyVersions::key)
                .containsExactly("k4", "k5", "k6", "k7");
    }

    /** As S3: a 404 for a key under a delete marker says so, and names the marker; a key that never was says nothing. */
    @Test
    void aKeyUnderADeleteMarkerAnswers404WithTheMarkerHeaderAndANeverWrittenKeyWithout() {
        s3.createBucket(r -> r.bucket("markers"));
        s3.putBucketVersioning(r -> r.bucket("markers").versioningConfiguration(v -> v.status("Enabled")));
        s3.putObject(r -> r.bucket("markers").key("deleted"), RequestBody.fromString("x"));
        String marker = s3.deleteObject(r -> r.bucket("markers").key("deleted")).versionId();

        var underMarker = org.assertj.core.api.Assertions.catchThrowableOfType(software.amazon.awssdk.services.s3.model.S3Exception.class,
                () -> s3.headObject(r -> r.bucket("markers").key("deleted")));
        var neverWritten = org.assertj.core.api.Assertions.catchThrowableOfType(software.amazon.awssdk.services.s3.model.S3Exception.class,
                () -> s3.headObject(r -> r.bucket("markers").key("never")));

        assertThat(underMarker.statusCode()).isEqualTo(404);
        assertThat(underMarker.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-delete-marker")).hasValue("true");
        assertThat(underMarker.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-version-id")).hasValue(marker);
        assertThat(neverWritten.statusCode()).isEqualTo(404);
        assertThat(neverWritten.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-delete-marker")).isEmpty();
    }

    private static List<String> keysAfter(String marker) {
        return s3.listObjectVersions(r -> r.bucket("listing").keyMarker(marker)).versions().stream()
                .map(v -> v.key() + ":" + v.isLatest()).toList();
    }

    @Test
    void aMalformedFaultPlanIsRefusedNamingThePart() {
        assertThatThrownBy(() -> FaultInjector.Plan.parse("503=10 teapot=5"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("teapot=5");
        assertThatThrownBy(() -> FaultInjector.Plan.parse("503=60 reset=50"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than 100");
        assertThat(FaultInjector.Plan.parse("503=10, reset=5 seed=7")).isEqualTo(new FaultInjector.Plan(10, 0, 5, 0, 0, 0, null, 7));
        assertThat(FaultInjector.Plan.parse("lost=100 only=delete")).isEqualTo(new FaultInjector.Plan(0, 0, 0, 0, 100, 0, "DELETE", 1));
    }

    /** A count from the server's {@code FAULTS} report line (counts since the server started; other tests add to them). */
    private static long injected(String report, String kind) {
        var m = java.util.regex.Pattern.compile(" " + kind + "=(\\d+) ").matcher(report);
        assertThat(m.find()).as(report).isTrue();
        return Long.parseLong(m.group(1));
    }
}
