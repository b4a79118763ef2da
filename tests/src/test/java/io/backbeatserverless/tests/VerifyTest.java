package io.backbeatserverless.tests;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Verify on the embedded stack, through the ops API: after replication it reports every version identical;
 * after a replica is deleted by hand, another overwritten with other bytes and a third's tag removed at the
 * site, it reports exactly those three, with what differs; {@code Repair} queues them again through the
 * normal path and the next run is clean.
 */
class VerifyTest extends StackScenario {

    static JsonNode verify(String bucket, boolean repair) {
        return verify(bucket, repair, 60);
    }

    static JsonNode verify(String bucket, boolean repair, int stuckAfterSeconds) {
        return verify(bucket, repair, stuckAfterSeconds, false);
    }

    /** @param deep every version read whole (HEAD and tags), not by the listings with a sample read whole */
    static JsonNode verify(String bucket, boolean repair, int stuckAfterSeconds, boolean deep) {
        JsonNode started = stack.api(202, "POST", "/_/crr/verify", Map.of(),
                "{\"Bucket\":\"" + bucket + "\",\"Repair\":" + repair + ",\"StuckAfterSeconds\":" + stuckAfterSeconds
                        + ",\"Deep\":" + deep + "}");
        String id = started.path("Id").asText();
        return await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> stack.api("GET", "/_/crr/verify/" + id), run -> run.path("Phase").asText().equals("DONE"));
    }

    static List<JsonNode> findings(JsonNode run) {
        List<JsonNode> all = new ArrayList<>();
        String marker = null;
        do {
            JsonNode page = stack.api(200, "GET", "/_/crr/verify/" + run.path("Id").asText() + "/findings",
                    marker == null ? Map.of() : Map.of("marker", marker), null);
            page.path("Findings").forEach(all::add);
            marker = page.path("IsTruncated").asBoolean() ? page.path("NextMarker").asText() : null;
        } while (marker != null);
        return all;
    }

    @Test
    void reportsWhatWasTamperedWithAtTheSiteAndRepairBringsItBack() {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        List<String> versions = new ArrayList<>();
        for (String key : List.of("deleted", "overwritten", "untagged", "untouched")) {
            String version = stack.source.putObject(r -> r.bucket(bucket).key(key).metadata(Map.of("color", "blue")).tagging("team=a"),
                    RequestBody.fromString("bytes of " + key)).versionId();
            versions.add(version);
            stack.awaitReplica(bucket + "/" + key, version);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> stack.status(bucket, "untouched", versions.get(3))
                .map(s -> s.sites().get(SharedStack.AWS_LOCATION)).map(o -> o.status().name()).orElse("").equals("COMPLETED"));

        JsonNode clean = verify(bucket, false);
        assertThat(clean.path("Clean").asBoolean()).as(clean.toString()).isTrue();
        assertThat(clean.path("Sites").path(SharedStack.AWS_LOCATION).path("Expected").asLong()).isEqualTo(4);
        assertThat(clean.path("Sites").path(SharedStack.AWS_LOCATION).path("Identical").asLong()).isEqualTo(4);

        String deletedReplica = stack.headReplica(bucket + "/deleted").orElseThrow().versionId();
        stack.destination.deleteObject(r -> r.bucket("dest-bucket").key(bucket + "/deleted").versionId(deletedReplica));
        stack.destination.putObject(r -> r.bucket("dest-bucket").key(bucket + "/overwritten"), RequestBody.fromString("other bytes"));
        stack.destination.deleteObjectTagging(r -> r.bucket("dest-bucket").key(bucket + "/untagged"));

        // By the listings alone, what differs in its bytes or is gone: the tags are not in a listing.
        JsonNode listed = verify(bucket, false);
        assertThat(findings(listed)).extracting(f -> f.path("Key").asText() + " " + f.path("Kind").asText())
                .containsExactlyInAnyOrder("deleted MISSING", "overwritten DIVERGENT");

        JsonNode tampered = verify(bucket, false, 60, true);
        assertThat(tampered.path("Clean").asBoolean()).isFalse();
        JsonNode counts = tampered.path("Sites").path(SharedStack.AWS_LOCATION);
        assertThat(counts.path("Missing").asLong()).isEqualTo(1);
        assertThat(counts.path("Divergent").asLong()).isEqualTo(2);
        assertThat(counts.path("Identical").asLong()).isEqualTo(1);
        assertThat(findings(tampered)).extracting(f -> f.path("Key").asText() + " " + f.path("Kind").asText() + " " + f.path("VersionId").asText())
                .containsExactlyInAnyOrder("deleted MISSING " + versions.get(0), "overwritten DIVERGENT " + versions.get(1),
                        "untagged DIVERGENT " + versions.get(2));
        assertThat(findings(tampered)).filteredOn(f -> f.path("Key").asText().equals("untagged")).singleElement()
                .satisfies(f -> assertThat(f.path("Detail").asText()).isEqualTo("tag team: 'a' at the source, absent at the site"));
        assertThat(findings(tampered)).filteredOn(f -> f.path("Key").asText().equals("overwritten")).singleElement()
                .satisfies(f -> assertThat(f.path("Detail").asText()).contains("is not a replica"));

        JsonNode repaired = verify(bucket, true, 60, true);
        assertThat(repaired.path("Sites").path(SharedStack.AWS_LOCATION).path("Repaired").asLong()).isEqualTo(3);

        JsonNode after = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> verify(bucket, false, 60, true), run -> run.path("Clean").asBoolean());
        assertThat(after.path("Sites").path(SharedStack.AWS_LOCATION).path("Identical").asLong()).isEqualTo(4);
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("dest-bucket").key(bucket + "/overwritten")).asUtf8String())
                .isEqualTo("bytes of overwritten");
    }

    /**
     * Found by the chaos run of a backfill: by the listings, a key whose site history is not the start of the source's
     * is read whole at the site (a HEAD says whose replica each entry is), and then judged by what the listing says at the
     * source, not by content headers the source side was never read for (each such key read divergent, its content type
     * "absent at the source"); and a key with the same content twice is never matched by position (a site holding the
     * newer one's replica alone read as holding the older, and the newer was reported missing).
     */
    @Test
    void byTheListingsAKeyReadWholeAtTheSiteIsJudgedByWhatTheListingsSayAndRepeatedContentByWhoseReplicaItIs() {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        Map<String, List<String>> versions = new java.util.LinkedHashMap<>();
        for (String key : List.of("repeated", "changed")) {
            List<String> ids = new ArrayList<>();
            for (String body : key.equals("repeated") ? List.of("same bytes", "same bytes") : List.of("first bytes", "second bytes")) {
                ids.add(stack.source.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString(body)).versionId());
                stack.awaitReplica(bucket + "/" + key, ids.getLast());
            }
            versions.put(key, ids);
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> verify(bucket, false),
                run -> run.path("Sites").path(SharedStack.AWS_LOCATION).path("Identical").asLong() == 4);
        // Each key's older replica removed at the site: the site holds the newer one's replica alone.
        for (String key : versions.keySet()) {
            var atSite = stack.destination.listObjectVersions(r -> r.bucket("dest-bucket").prefix(bucket + "/" + key)).versions();
            var oldest = atSite.stream().min(java.util.Comparator.comparing(software.amazon.awssdk.services.s3.model.ObjectVersion::lastModified)
                    .thenComparing(v -> v.isLatest())).orElseThrow();
            stack.destination.deleteObject(r -> r.bucket("dest-bucket").key(oldest.key()).versionId(oldest.versionId()));
        }

        JsonNode listed = verify(bucket, false, 60, false);

        assertThat(findings(listed)).extracting(f -> f.path("Key").asText() + " " + f.path("Kind").asText() + " " + f.path("VersionId").asText())
                .containsExactlyInAnyOrder("repeated MISSING " + versions.get("repeated").get(0), "changed MISSING " + versions.get("changed").get(0));
    }

    /**
     * Issue 29: verify --repair at scale. A site that lost a whole page's worth of replicas gets them back by one backfill
     * job the run starts for the bucket and site (reported with the run), not by an entry and a status record each; a
     * replica that differs is still copied over one by one; the next run is clean.
     */
    @Test
    void aRepairOfManyMissingVersionsStartsOneBackfillJobForTheSite() {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        int count = io.backbeatserverless.verifier.VerifyEngine.REPAIR_BY_JOB_AT + 20;
        Map<String, String> versions = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.stream.IntStream.range(0, count).parallel().forEach(i -> versions.put("k" + i, stack.source.putObject(
                r -> r.bucket(bucket).key("k" + i), RequestBody.fromString("bytes " + i)).versionId()));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> verify(bucket, false),
                run -> run.path("Sites").path(SharedStack.AWS_LOCATION).path("Identical").asLong() == count); // clean allows in flight
        stack.destination.listObjectVersionsPaginator(r -> r.bucket("dest-bucket").prefix(bucket + "/")).versions()
                .forEach(v -> stack.destination.deleteObject(r -> r.bucket("dest-bucket").key(v.key()).versionId(v.versionId())));

        JsonNode repaired = verify(bucket, true);

        JsonNode counts = repaired.path("Sites").path(SharedStack.AWS_LOCATION);
        assertThat(counts.path("Missing").asLong()).as(counts.toString()).isEqualTo(count);
        assertThat(counts.path("Repaired").asLong()).isEqualTo(count);
        assertThat(repaired.path("RepairJobs")).singleElement().satisfies(job -> {
            assertThat(job.path("Id").asText()).isEqualTo(repaired.path("Id").asText() + "-repair-" + SharedStack.AWS_LOCATION + "-" + bucket);
            assertThat(job.path("Bucket").asText()).isEqualTo(bucket);
            assertThat(job.path("Sites")).extracting(JsonNode::asText).containsExactly(SharedStack.AWS_LOCATION);
        });
        String job = repaired.path("RepairJobs").path(0).path("Id").asText();
        JsonNode done = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .until(() -> stack.api("GET", "/_/backfill/jobs/" + job), j -> j.path("State").asText().equals("DONE"));
        assertThat(done.path("BySite").path(SharedStack.AWS_LOCATION).path("Completed").asLong()).isEqualTo(count);
        JsonNode after = verify(bucket, false, 60, true);
        assertThat(after.path("Clean").asBoolean()).as(after.toString()).isTrue();
        assertThat(after.path("Sites").path(SharedStack.AWS_LOCATION).path("Identical").asLong()).isEqualTo(count);
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("dest-bucket").key(bucket + "/k7")).asUtf8String()).isEqualTo("bytes 7");
    }

    /**
     * Issue 28 #6: the listing feed sees new versions only, so a tag change at the source never reaches the site; verify
     * reports the replica divergent by its tags, and its repair re-tags the replica in place (a change of metadata
     * alone), the latest version's and an older one's alike: no byte copied again, no version added at the site.
     */
    @Test
    void aTagChangeTheListingFeedCannotSeeIsReportedAndRepairedInPlace() {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        String older = stack.source.putObject(r -> r.bucket(bucket).key("labelled").tagging("team=a"), RequestBody.fromString("one"))
                .versionId();
        String latest = stack.source.putObject(r -> r.bucket(bucket).key("labelled").tagging("team=a"), RequestBody.fromString("two"))
                .versionId();
        stack.awaitReplica(bucket + "/labelled", latest);
        stack.awaitSiteStatus(bucket, "labelled", older, SharedStack.AWS_LOCATION, io.backbeatserverless.core.status.ReplicationStatus.COMPLETED);
        stack.source.putObjectTagging(r -> r.bucket(bucket).key("labelled").versionId(older)
                .tagging(t -> t.tagSet(software.amazon.awssdk.services.s3.model.Tag.builder().key("team").value("b").build())));
        stack.source.putObjectTagging(r -> r.bucket(bucket).key("labelled").versionId(latest)
                .tagging(t -> t.tagSet(software.amazon.awssdk.services.s3.model.Tag.builder().key("team").value("c").build())));

        JsonNode changed = verify(bucket, false, 60, true);
        assertThat(findings(changed)).extracting(f -> f.path("Kind").asText() + " " + f.path("VersionId").asText() + " " + f.path("Detail").asText())
                .containsExactlyInAnyOrder("DIVERGENT " + older + " tag team: 'b' at the source, 'a' at the site",
                        "DIVERGENT " + latest + " tag team: 'c' at the source, 'a' at the site");

        verify(bucket, true, 60, true);

        JsonNode after = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> verify(bucket, false, 60, true), run -> run.path("Clean").asBoolean());
        assertThat(after.path("Sites").path(SharedStack.AWS_LOCATION).path("Identical").asLong()).isEqualTo(2);
        var siteVersions = stack.destination.listObjectVersions(r -> r.bucket("dest-bucket").prefix(bucket + "/labelled")).versions();
        assertThat(siteVersions).as("re-tagged in place: no version added").hasSize(2);
        assertThat(siteVersions).extracting(v -> stack.destination.getObjectTagging(r -> r.bucket("dest-bucket").key(bucket + "/labelled")
                        .versionId(v.versionId())).tagSet().getFirst().value()).containsExactly("c", "b");
    }

    /** Issue 13: an upload left in progress at a site (parts stored and billed, never completed) is reported, with what to do. */
    @Test
    void reportsAnUploadLeftInProgressAtTheSite() {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        String key = bucket + "/left-behind.bin";
        String uploadId = stack.destination.createMultipartUpload(r -> r.bucket("dest-bucket").key(key)).uploadId();
        try {
            JsonNode run = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> verify(bucket, false, 1), r -> !r.path("Problems").isEmpty());
            assertThat(run.path("Clean").asBoolean()).isFalse();
            assertThat(run.path("Problems")).singleElement().satisfies(p -> assertThat(p.asText())
                    .startsWith("site 'aws-location', bucket 'dest-bucket': 1 multipart upload(s) in progress for more than 0 min ('"
                            + key + "' upload " + uploadId + " started ")
                    .contains("AbortIncompleteMultipartUpload"));
        } finally {
            stack.destination.abortMultipartUpload(r -> r.bucket("dest-bucket").key(key).uploadId(uploadId));
        }
        assertThat(verify(bucket, false, 1).path("Clean").asBoolean()).as("once aborted").isTrue();
    }

    @Test
    void aBadRequestIsRefusedWithWhatIsWrong() {
        assertThat(stack.api(404, "POST", "/_/crr/verify", Map.of(), "{\"Site\":\"no-such-site\"}").path("message").asText())
                .contains("unknown site 'no-such-site'");
        assertThat(stack.api(400, "POST", "/_/crr/verify", Map.of(), "{\"StuckAfterSeconds\":\"soon\"}").path("message").asText())
                .contains("StuckAfterSeconds");
        assertThat(stack.api(404, "GET", "/_/crr/verify/no-such-run", Map.of(), null).path("message").asText())
                .contains("no verify run 'no-such-run'");
    }
}
