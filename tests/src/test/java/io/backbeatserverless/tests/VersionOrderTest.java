package io.backbeatserverless.tests;

import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.CompletedPart;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 28: a key's versions are ordered by the source's own version order, never by Last-Modified alone. On S3 a
 * multipart object's Last-Modified is when its upload was initiated (S3 User Guide, "Working with object metadata"; the
 * stack's S3 server now answers so too), so a multipart version completed after a later plain PUT looks older than it:
 * ordered by time, the newer version was SKIPPED "superseded" and the site kept the older one as its current version.
 */
class VersionOrderTest extends StackScenario {

    @Test
    void aMultipartVersionCompletedAfterALaterPutBecomesTheSitesCurrentVersion() {
        String bucket = stack.replicatedBucket(SharedStack.AWS_LOCATION);
        String upload = stack.source.createMultipartUpload(r -> r.bucket(bucket).key("mixed")).uploadId();
        Instant initiated = Instant.now();
        // The plain PUT in a later second than the upload's initiation: S3's times are whole seconds.
        await().atMost(Duration.ofSeconds(3)).until(() -> Instant.now().getEpochSecond() > initiated.getEpochSecond());
        String plain = stack.source.putObject(r -> r.bucket(bucket).key("mixed"), RequestBody.fromString("plain, older")).versionId();
        stack.awaitReplica(bucket + "/mixed", plain);

        String eTag = stack.source.uploadPart(r -> r.bucket(bucket).key("mixed").uploadId(upload).partNumber(1),
                RequestBody.fromString("multipart, newer")).eTag();
        String multipart = stack.source.completeMultipartUpload(r -> r.bucket(bucket).key("mixed").uploadId(upload)
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(eTag).build()))).versionId();

        var listed = stack.source.listObjectVersions(r -> r.bucket(bucket).prefix("mixed")).versions();
        assertThat(listed.getFirst().versionId()).as("the source lists the multipart version first: it is the newer").isEqualTo(multipart);
        assertThat(listed.getFirst().lastModified()).as("and reports its initiation as its Last-Modified, before the PUT's")
                .isBefore(listed.get(1).lastModified());

        stack.awaitSiteStatus(bucket, "mixed", multipart, SharedStack.AWS_LOCATION, ReplicationStatus.COMPLETED);
        assertThat(stack.headReplica(bucket + "/mixed").orElseThrow().metadata().get("scal-version-id"))
                .as("the site's current version is the source's").isEqualTo(multipart);
    }
}
