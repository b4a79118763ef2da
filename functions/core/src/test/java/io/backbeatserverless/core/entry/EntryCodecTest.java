package io.backbeatserverless.core.entry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EntryCodecTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    static ObjectMetadata recordedMetadata(String resource) throws IOException {
        try (InputStream in = EntryCodecTest.class.getResourceAsStream("/" + resource)) {
            return ObjectMetadata.of((ObjectNode) MAPPER.readTree(in));
        }
    }

    @Test
    void writesBackbeatsReplicationEntryShape() throws IOException {
        ObjectMetadata md = recordedMetadata("cloudserver-object-metadata.json");
        ReplicationEntry entry = new ReplicationEntry("put", "srcbucket", new VersionKey("obj1", md.versionId()), md,
                new ReplicationEntry.OverheadFields("2026-11-25T07:35:06.024Z", null, md.versionId()));

        JsonNode wire = MAPPER.readTree(EntryCodec.encode(entry));

        assertThat(wire.get("type").asText()).isEqualTo("put");
        assertThat(wire.get("bucket").asText()).isEqualTo("srcbucket");
        assertThat(wire.get("key").asText()).isEqualTo("obj1\u000098204407893972999999RG001  0");
        assertThat(wire.get("value").isTextual()).as("value is a JSON string, as Backbeat writes it").isTrue();
        assertThat(MAPPER.readTree(wire.get("value").asText())).isEqualTo(md.toJson());
        assertThat(wire.at("/overheadFields/commitTimestamp").asText()).isEqualTo("2026-11-25T07:35:06.024Z");
        assertThat(entry.messageKey()).isEqualTo("srcbucket%2Fobj1");
    }

    @Test
    void roundTripsAReplicationEntryKeepingEveryMetadataField() throws IOException {
        ObjectMetadata md = recordedMetadata("cloudserver-object-metadata-mpu.json");
        ReplicationEntry entry = new ReplicationEntry("put", "srcbucket", new VersionKey("mpu.bin", md.versionId()), md, null);

        ReplicationEntry decoded = EntryCodec.decodeReplicationEntry(EntryCodec.encode(entry));

        assertThat(decoded).isEqualTo(entry);
        assertThat(decoded.metadata().toJson().path("location")).hasSize(2);
        assertThat(decoded.metadata().contentLength()).isEqualTo(11534336L);
        assertThat(decoded.metadata().replicationInfo()).get()
                .satisfies(info -> assertThat(info.sites()).containsExactly("aws-location"));
    }

    @Test
    void roundTripsAStatusEntry() throws IOException {
        ObjectMetadata md = recordedMetadata("cloudserver-object-metadata.json").withSiteStatus("aws-location", ReplicationStatus.FAILED);
        StatusEntry entry = new StatusEntry("srcbucket", new VersionKey("obj1", md.versionId()), "aws-location",
                ReplicationStatus.FAILED, "NoSuchBucket: dest-bucket", md, 3, 0, 1200, "2026-11-25T07:35:07Z");

        StatusEntry decoded = EntryCodec.decodeStatusEntry(EntryCodec.encode(entry));

        assertThat(decoded).isEqualTo(entry);
        assertThat(decoded.metadata().replicationInfo().orElseThrow().status()).isEqualTo(ReplicationStatus.FAILED);
    }

    @Test
    void namesWhatIsWrongWithMalformedEntries() {
        assertThatThrownBy(() -> EntryCodec.decodeReplicationEntry("not json".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedEntryException.class).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> EntryCodec.decodeReplicationEntry(new byte[0]))
                .isInstanceOf(MalformedEntryException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> decode("{\"type\":\"put\",\"key\":\"k\\u0000v\",\"value\":\"{}\"}"))
                .isInstanceOf(MalformedEntryException.class).hasMessageContaining("'bucket'");
        assertThatThrownBy(() -> decode("{\"type\":\"put\",\"bucket\":\"b\",\"key\":\"k\",\"value\":\"{}\"}"))
                .isInstanceOf(MalformedEntryException.class).hasMessageContaining("not a version key");
        assertThatThrownBy(() -> decode("{\"type\":\"put\",\"bucket\":\"b\",\"key\":\"k\\u0000v\",\"value\":\"{oops\"}"))
                .isInstanceOf(MalformedEntryException.class).hasMessageContaining("b/k").hasMessageContaining("value that is not JSON");
        assertThatThrownBy(() -> decode("{\"type\":\"copy\",\"bucket\":\"b\",\"key\":\"k\\u0000v\",\"value\":\"{}\"}"))
                .isInstanceOf(MalformedEntryException.class).hasMessageContaining("unknown type 'copy'");
        assertThatThrownBy(() -> EntryCodec.decodeStatusEntry(
                "{\"bucket\":\"b\",\"key\":\"k\\u0000v\",\"value\":\"{}\",\"site\":\"s\",\"status\":\"DONE\"}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedEntryException.class).hasMessageContaining("unknown replication status 'DONE'");
    }

    private static ReplicationEntry decode(String json) {
        return EntryCodec.decodeReplicationEntry(json.getBytes(StandardCharsets.UTF_8));
    }
}
