package io.backbeatserverless.core.backfill;

import io.backbeatserverless.core.entry.EntryCodec;
import io.backbeatserverless.core.entry.MalformedEntryException;
import io.backbeatserverless.core.entry.ReplicationEntry;
import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser;
import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackfillPageCodecTest {

    private static final String RULES = ReplicationConfigurationParser.toJson(ReplicationConfigurationParser.build("arn:aws:iam::1:role/r",
            List.of(new ReplicationConfigurationParser.RuleFields("all", "Enabled", 1, "", null, null, false, "Enabled",
                    "arn:aws:s3:::dest", "site-a,site-b"))));

    private static BackfillPage page() {
        return new BackfillPage("job-1", 7, 0, "src", "logs/", "logs/a", "logs/c", List.of("site-a", "site-b"), RULES, List.of(
                new BackfillPage.PageVersion("logs/b", "v1", 12, "etag1", "2026-12-07T01:02:03Z", false, 0, Map.of("team", "x")),
                new BackfillPage.PageVersion("logs/c", "v2", 0, null, "2026-12-07T01:02:04Z", true, 0, Map.of())), "2026-12-07T02:00:00Z");
    }

    @Test
    void aPageRoundTripsAndIsToldFromAReplicationEntry() {
        Object decoded = EntryCodec.decodeReplicationTopicRecord(EntryCodec.encode(page()));
        assertThat(decoded).isEqualTo(page());
        assertThatThrownBy(() -> EntryCodec.decodeReplicationEntry(EntryCodec.encode(page())))
                .isInstanceOf(MalformedEntryException.class).hasMessageContaining("unknown type 'page'");
    }

    @Test
    void aPagesVersionIsPendingAtItsRulesSitesAsTheLivePathWouldQueueIt() {
        BackfillPage page = page();
        ObjectMetadata metadata = page.versions().getFirst().metadata(page.configuration());
        assertThat(metadata.versionId()).isEqualTo("v1");
        assertThat(metadata.contentLength()).isEqualTo(12);
        assertThat(metadata.replicationInfo().orElseThrow().backend("site-b").orElseThrow().status()).isEqualTo(ReplicationStatus.PENDING);
        assertThat(page.messageKey()).isEqualTo(page.remainderFor("site-a", List.of()).messageKey());
        assertThat(page.remainderFor("site-a", List.of()).token()).isEqualTo("7.1");
    }

    @Test
    void anOutcomeRoundTripsOnTheStatusTopic() {
        PageOutcome outcome = new PageOutcome("job-1", 7, 1, "src", "logs/c", "site-a", 10, 400, 1, 2,
                List.of("logs/b\u0000v1"), List.of("logs/c\u0000v2"), "2026-12-07T02:00:01Z");
        assertThat(EntryCodec.decodeStatusTopicRecord(EntryCodec.encode(outcome))).isEqualTo(outcome);
        assertThat(outcome.last()).isFalse();
    }

    @Test
    void aPageWhoseVersionLacksItsKeyIsRefusedNamingThePage() {
        String json = new String(EntryCodec.encode(page()), StandardCharsets.UTF_8).replace("\"k\":\"logs/b\",", "");
        assertThatThrownBy(() -> EntryCodec.decodeReplicationTopicRecord(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(MalformedEntryException.class).hasMessageContaining("job-1/7").hasMessageContaining("'src'");
        assertThat(EntryCodec.decodeReplicationTopicRecord(EntryCodec.encode(new ReplicationEntry("put", "b",
                new io.backbeatserverless.core.entry.VersionKey("k", "v"), ObjectMetadata.builder("k", "v").build(), null))))
                .isInstanceOf(ReplicationEntry.class);
    }
}
