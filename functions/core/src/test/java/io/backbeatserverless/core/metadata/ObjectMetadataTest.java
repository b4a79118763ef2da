package io.backbeatserverless.core.metadata;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ObjectMetadataTest {

    @Test
    void readsCloudServersRecordedDocument() throws Exception {
        ObjectMetadata md;
        try (InputStream in = getClass().getResourceAsStream("/cloudserver-object-metadata.json")) {
            md = ObjectMetadata.of((ObjectNode) new ObjectMapper().readTree(in));
        }
        assertThat(md.objectKey()).isEqualTo("obj1");
        assertThat(md.contentLength()).isEqualTo(12);
        assertThat(md.contentMd5()).isEqualTo("8a8933dab8deebe52e30886da1ef6ee2");
        assertThat(md.isDeleteMarker()).isFalse();
        ObjectMetadata.ReplicationInfo info = md.replicationInfo().orElseThrow();
        assertThat(info.status()).isEqualTo(ReplicationStatus.PENDING);
        assertThat(info.sites()).containsExactly("aws-location");
        assertThat(info.isMetadataOnly()).isFalse();

        ObjectMetadata done = md.withSiteStatus("aws-location", ReplicationStatus.COMPLETED);
        assertThat(done.replicationInfo().orElseThrow().status()).isEqualTo(ReplicationStatus.COMPLETED);
        assertThat(done.toJson().at("/replicationInfo/isNFS").isNull()).as("fields we do not model survive").isTrue();
        assertThat(md.replicationInfo().orElseThrow().status()).as("original untouched").isEqualTo(ReplicationStatus.PENDING);
    }

    @Test
    void buildsDocumentsForSourcesWithoutCloudServerMetadata() {
        ObjectMetadata md = ObjectMetadata.builder("k", "v1").contentLength(5).contentHeader("Content-Type", "text/plain")
                .userMetadata(Map.of("Color", "blue")).tags(Map.of("team", "ops"))
                .replicationInfo(new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                        List.of(new ObjectMetadata.Backend("s1", ReplicationStatus.PENDING, ""),
                                new ObjectMetadata.Backend("s2", ReplicationStatus.PENDING, "")),
                        List.of("DATA", "METADATA"), "arn:aws:s3:::b", "s1,s2", "arn:aws:iam::root:role/r"))
                .build();

        assertThat(md.contentHeaders()).containsExactly(Map.entry("content-type", "text/plain"));
        assertThat(md.userMetadata()).containsExactly(Map.entry("color", "blue"));
        assertThat(md.tags()).containsExactly(Map.entry("team", "ops"));
        ObjectMetadata oneDone = md.withSiteStatus("s1", ReplicationStatus.COMPLETED);
        assertThat(oneDone.replicationInfo().orElseThrow().status()).isEqualTo(ReplicationStatus.PROCESSING);
        assertThat(oneDone.withSiteStatus("s2", ReplicationStatus.FAILED).replicationInfo().orElseThrow().status())
                .isEqualTo(ReplicationStatus.FAILED);
    }
}
