package io.backbeatserverless.core.verify;

import io.backbeatserverless.core.rules.ReplicationConfiguration;
import io.backbeatserverless.core.rules.ReplicationConfigurationParser;
import io.backbeatserverless.core.versions.ListedVersion;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class InventoryDiffTest {

    private static final ReplicationConfiguration RULES = ReplicationConfigurationParser.parse("""
            {"Role":"arn:aws:iam::1:role/r","Rules":[
             {"ID":"logs","Status":"Enabled","Priority":2,"Filter":{"Prefix":"logs/"},"DeleteMarkerReplication":{"Status":"Disabled"},
              "Destination":{"Bucket":"arn:aws:s3:::d","StorageClass":"a"}},
             {"ID":"tagged","Status":"Enabled","Priority":3,"Filter":{"And":{"Prefix":"t/","Tags":[{"Key":"k","Value":"v"}]}},
              "DeleteMarkerReplication":{"Status":"Enabled"},"Destination":{"Bucket":"arn:aws:s3:::d","StorageClass":"a"}},
             {"ID":"rest","Status":"Enabled","Priority":1,"Filter":{"Prefix":""},"DeleteMarkerReplication":{"Status":"Enabled"},
              "Destination":{"Bucket":"arn:aws:s3:::d","StorageClass":"a,b"}}]}""");

    private static ListedVersion version(String key, String id, long size, String eTag) {
        return new ListedVersion(key, id, false, Instant.EPOCH, false, size, eTag);
    }

    private static ListedVersion marker(String key, String id) {
        return new ListedVersion(key, id, true, Instant.EPOCH, true, 0, null);
    }

    @Test
    void theSameEntriesInAnyOrderAreIdenticalWithTheirCount() {
        List<ListedVersion> source = List.of(version("k", "s1", 1, "e1"), marker("k", "s2"), version("k", "s3", 2, "e2"));
        List<ListedVersion> site = List.of(version("k", "r3", 2, "e2"), version("k", "r1", 1, "e1"), marker("k", "r2"));
        assertThat(InventoryDiff.judge("k", source, site, RULES, "a")).isEqualTo(new InventoryDiff.Verdict(true, 3));
    }

    @Test
    void anEntryMissingExtraOrOfOtherContentMakesTheKeyACandidate() {
        List<ListedVersion> source = List.of(version("k", "s1", 1, "e1"), version("k", "s2", 2, "e2"));
        assertThat(InventoryDiff.judge("k", source, List.of(version("k", "r1", 1, "e1")), RULES, "a").identical()).isFalse();
        assertThat(InventoryDiff.judge("k", source, List.of(version("k", "r1", 1, "e1"), version("k", "r2", 2, "e2"),
                version("k", "r3", 3, "e3")), RULES, "a").identical()).isFalse();
        assertThat(InventoryDiff.judge("k", source, List.of(version("k", "r1", 1, "e1"), version("k", "r2", 2, "other")), RULES, "a")
                .identical()).isFalse();
        assertThat(InventoryDiff.judge("k", List.of(), List.of(version("k", "r1", 1, "e1")), RULES, "a").identical()).isFalse();
    }

    @Test
    void onlyWhatTheRulesSendToTheSiteIsExpectedThere() {
        // logs/ goes to site a alone, its delete markers nowhere.
        List<ListedVersion> source = List.of(version("logs/x", "s1", 1, "e1"), marker("logs/x", "s2"));
        assertThat(InventoryDiff.judge("logs/x", source, List.of(version("logs/x", "r1", 1, "e1")), RULES, "a"))
                .isEqualTo(new InventoryDiff.Verdict(true, 1));
        assertThat(InventoryDiff.judge("logs/x", source, List.of(), RULES, "b")).isEqualTo(new InventoryDiff.Verdict(true, 0));
    }

    @Test
    void aKeyARuleOnTagsMaySelectIsLeftToTheLiveAudit() {
        List<ListedVersion> source = List.of(version("t/x", "s1", 1, "e1"));
        assertThat(InventoryDiff.judge("t/x", source, List.of(version("t/x", "r1", 1, "e1")), RULES, "a").identical()).isFalse();
    }

    @Test
    void candidatesAreTheKeysEitherSideListsThatAreNotIdentical() {
        InventoryDiff.ShardVerdict verdict = InventoryDiff.judge(
                Map.of("same", List.of(version("same", "s1", 1, "e1")), "lost", List.of(version("lost", "s2", 1, "e1"))),
                Map.of("same", List.of(version("same", "r1", 1, "e1")), "extra", List.of(version("extra", "r2", 1, "e1"))),
                RULES, "a");
        assertThat(verdict.candidates()).containsExactly("extra", "lost");
        assertThat(verdict.identical()).isEqualTo(1);
    }
}
