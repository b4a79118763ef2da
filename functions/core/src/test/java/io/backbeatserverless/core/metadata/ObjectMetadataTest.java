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

    /**
     * A version CloudServer stored before its bucket had a replication rule: replicationInfo is there with CloudServer's
     * empty defaults (ObjectMD's), no status. Setting a site's status takes its rule's replicationInfo (before: "has no
     * replicationInfo", which sank the status processor's batch of a version verify --repair queued, every retry).
     */
    @Test
    void aVersionStoredBeforeItsBucketHadRulesTakesItsRulesReplicationInfo() throws Exception {
        ObjectNode document;
        try (InputStream in = getClass().getResourceAsStream("/cloudserver-object-metadata.json")) {
            document = (ObjectNode) new ObjectMapper().readTree(in);
        }
        document.set("replicationInfo", new ObjectMapper().readTree("""
                {"status":"","backends":[],"content":[],"destination":"","storageClass":"","role":"","storageType":"",
                 "dataStoreVersionId":"","isNFS":null}"""));
        ObjectMetadata beforeRules = ObjectMetadata.of(document);
        assertThat(beforeRules.replicationInfo()).isEmpty();
        ObjectMetadata.ReplicationInfo ruleGives = new ObjectMetadata.ReplicationInfo(ReplicationStatus.PENDING,
                List.of(new ObjectMetadata.Backend("s1", ReplicationStatus.PENDING, ""), new ObjectMetadata.Backend("s2", ReplicationStatus.PENDING, "")),
                List.of("DATA", "METADATA"), "arn:aws:s3:::dst", "s1,s2", "arn:aws:iam::root:role/r,arn:aws:iam::root:role/r");

        ObjectMetadata done = beforeRules.withSiteStatus("s1", ReplicationStatus.COMPLETED, ruleGives);

        ObjectMetadata.ReplicationInfo info = done.replicationInfo().orElseThrow();
        assertThat(info.status()).as("one site of two done").isEqualTo(ReplicationStatus.PROCESSING);
        assertThat(info.backends()).extracting(ObjectMetadata.Backend::site, ObjectMetadata.Backend::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("s1", ReplicationStatus.COMPLETED),
                        org.assertj.core.groups.Tuple.tuple("s2", ReplicationStatus.PENDING));
        assertThat(done.toJson().at("/replicationInfo/destination").asText()).isEqualTo("arn:aws:s3:::dst");
        assertThat(done.toJson().at("/replicationInfo/role").asText()).isEqualTo("arn:aws:iam::root:role/r,arn:aws:iam::root:role/r");
        assertThat(done.toJson().at("/replicationInfo/isNFS").isNull()).as("CloudServer's other fields stay").isTrue();
        assertThat(done.toJson().at("/location/0/key").asText()).as("the rest of the document stays").isEqualTo(document.at("/location/0/key").asText());
        ObjectMetadata withRulesAlready = ObjectMetadata.of(document.deepCopy()).withSiteStatus("s2", ReplicationStatus.FAILED, ruleGives)
                .withSiteStatus("s1", ReplicationStatus.COMPLETED, ruleGives);
        assertThat(withRulesAlready.replicationInfo().orElseThrow().status()).as("once there, the document's own is taken")
                .isEqualTo(ReplicationStatus.FAILED);
        assertThat(withRulesAlready.replicationInfo().orElseThrow().backends()).extracting(ObjectMetadata.Backend::status)
                .containsExactly(ReplicationStatus.COMPLETED, ReplicationStatus.FAILED);
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

    /**
     * Issue 28 #2: a version queued with its rule undecided carries its candidate rules and is PENDING to each of their
     * sites; once a replicator has chosen the rule from the tags, the version has that rule's destination and those
     * tags, and no candidates; no replica ever carries them.
     */
    @Test
    void anUndecidedVersionCarriesItsCandidatesUntilARuleIsChosen() {
        var config = io.backbeatserverless.core.rules.ReplicationConfigurationParser.parse("""
                {"Role":"r","Rules":[
                 {"ID":"tagged","Status":"Enabled","Priority":2,"Filter":{"And":{"Prefix":"","Tags":[{"Key":"k","Value":"v"}]}},
                  "DeleteMarkerReplication":{"Status":"Enabled"},"Destination":{"Bucket":"arn:aws:s3:::one","StorageClass":"site-a"}},
                 {"ID":"all","Status":"Enabled","Priority":1,"Filter":{"Prefix":""},
                  "DeleteMarkerReplication":{"Status":"Enabled"},"Destination":{"Bucket":"arn:aws:s3:::two","StorageClass":"site-a,site-b"}}]}""");
        ObjectMetadata undecided = PendingVersions.undecidedOf("key", "v1", 5, "\"etag\"", java.time.Instant.parse("2026-12-07T00:00:00Z"),
                false, config.candidatesFor("key").orElseThrow());

        assertThat(undecided.undecidedRules()).contains(config);
        assertThat(undecided.replicationInfo().orElseThrow().backends()).extracting(ObjectMetadata.Backend::site, ObjectMetadata.Backend::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("site-a", ReplicationStatus.PENDING),
                        org.assertj.core.groups.Tuple.tuple("site-b", ReplicationStatus.PENDING));
        ObjectMetadata viaJson = ObjectMetadata.of((com.fasterxml.jackson.databind.node.ObjectNode) undecided.toJson().deepCopy())
                .withSiteStatus("site-b", ReplicationStatus.FAILED).onlySite("site-b");
        assertThat(viaJson.undecidedRules()).as("a failed entry's retry carries the candidates").contains(config);

        ObjectMetadata decided = undecided.decidedBy(config.rules().getFirst(), Map.of("k", "v"));
        assertThat(decided.undecidedRules()).isEmpty();
        assertThat(decided.tags()).containsExactly(Map.entry("k", "v"));
        assertThat(decided.replicationInfo().orElseThrow().destination()).isEqualTo("arn:aws:s3:::one");
        assertThat(decided.replicationInfo().orElseThrow().storageClass()).isEqualTo("site-a");
        assertThat(undecided.asReplica(null).toJson().has(ObjectMetadata.UNDECIDED_RULES)).isFalse();
    }
}
