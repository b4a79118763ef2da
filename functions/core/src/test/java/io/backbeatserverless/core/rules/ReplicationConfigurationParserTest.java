package io.backbeatserverless.core.rules;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplicationConfigurationParserTest {

    private static final String QUICKSTART = """
            {"Role":"arn:aws:iam::root:role/s3-replication-role","Rules":[{"Status":"Enabled","Prefix":"",
             "Destination":{"Bucket":"arn:aws:s3:::sourcebucket","StorageClass":"aws-location"}}]}""";

    @Test
    void readsTheQuickstartConfiguration() {
        ReplicationConfiguration config = ReplicationConfigurationParser.parse(QUICKSTART);

        assertThat(config.role()).isEqualTo("arn:aws:iam::root:role/s3-replication-role");
        ReplicationRule rule = config.rules().getFirst();
        assertThat(rule.enabled()).isTrue();
        assertThat(rule.prefix()).isEmpty();
        assertThat(rule.sites()).containsExactly("aws-location");
        assertThat(rule.destinationBucketName()).isEqualTo("sourcebucket");
        assertThat(rule.deleteMarkerReplication()).as("V1 rules replicate delete markers").isTrue();
        assertThat(config.ruleFor("key0", Map.of())).contains(rule);
        assertThat(config.sites()).containsExactly("aws-location");
    }

    @Test
    void readsEveryFilterFormAndSiteList() {
        ReplicationConfiguration config = ReplicationConfigurationParser.parse("""
                {"ReplicationConfiguration":{"Role":"r","Rules":[
                 {"ID":"logs","Status":"Enabled","Priority":1,"Filter":{"Prefix":"logs/"},
                  "DeleteMarkerReplication":{"Status":"Disabled"},
                  "Destination":{"Bucket":"arn:aws:s3:::d","StorageClass":"site-a, site-b"}},
                 {"ID":"gold","Status":"Enabled","Priority":5,"Filter":{"Tag":{"Key":"tier","Value":"gold"}},
                  "DeleteMarkerReplication":{"Status":"Enabled"},
                  "Destination":{"Bucket":"d","StorageClass":"site-c"}},
                 {"ID":"both","Status":"Disabled","Priority":9,"Filter":{"And":{"Prefix":"logs/","Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}]}},
                  "Destination":{"Bucket":"d","StorageClass":"site-a"}}]}}""");

        assertThat(config.rules()).extracting(ReplicationRule::id).containsExactly("logs", "gold", "both");
        ReplicationRule logs = config.rules().get(0);
        assertThat(logs.sites()).containsExactly("site-a", "site-b");
        assertThat(logs.deleteMarkerReplication()).isFalse();
        assertThat(config.rules().get(1).tags()).containsExactly(Map.entry("tier", "gold"));
        ReplicationRule both = config.rules().get(2);
        assertThat(both.prefix()).isEqualTo("logs/");
        assertThat(both.tags()).containsOnly(Map.entry("a", "1"), Map.entry("b", "2"));
        assertThat(both.deleteMarkerReplication()).as("V2 rules default to not replicating delete markers").isFalse();
        assertThat(config.sites()).containsExactly("site-a", "site-b", "site-c");
    }

    @Test
    void highestPriorityWinsOnOverlapAndDisabledRulesNeverMatch() {
        ReplicationConfiguration config = ReplicationConfigurationParser.parse("""
                {"Role":"r","Rules":[
                 {"ID":"all","Status":"Enabled","Priority":1,"Filter":{"Prefix":""},"Destination":{"Bucket":"d","StorageClass":"low"}},
                 {"ID":"logs","Status":"Enabled","Priority":3,"Filter":{"Prefix":"logs/"},"Destination":{"Bucket":"d","StorageClass":"high"}},
                 {"ID":"off","Status":"Disabled","Priority":7,"Filter":{"Prefix":"logs/"},"Destination":{"Bucket":"d","StorageClass":"never"}},
                 {"ID":"gold","Status":"Enabled","Priority":5,"Filter":{"And":{"Prefix":"logs/","Tags":[{"Key":"tier","Value":"gold"}]}},"Destination":{"Bucket":"d","StorageClass":"gold"}}]}""");

        assertThat(config.ruleFor("logs/a", Map.of()).orElseThrow().id()).isEqualTo("logs");
        assertThat(config.ruleFor("logs/a", Map.of("tier", "gold")).orElseThrow().id()).isEqualTo("gold");
        assertThat(config.ruleFor("logs/a", Map.of("tier", "silver")).orElseThrow().id()).isEqualTo("logs");
        assertThat(config.ruleFor("other", Map.of()).orElseThrow().id()).isEqualTo("all");
        assertThat(config.needsTagsFor("logs/a")).isTrue();
        assertThat(config.needsTagsFor("other")).isFalse();
        assertThat(config.sites()).doesNotContain("never");
    }

    @Test
    void noRuleMatchesOutsideItsPrefix() {
        ReplicationConfiguration config = ReplicationConfigurationParser.parse("""
                {"Role":"r","Rules":[{"Status":"Enabled","Prefix":"logs/","Destination":{"Bucket":"d","StorageClass":"s"}}]}""");
        assertThat(config.ruleFor("other/b", Map.of())).isEmpty();
        assertThat(config.ruleFor("logs/a", Map.of())).isPresent();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "not json|not JSON",
            "[]|must be a JSON object",
            "{\"Rules\":[{\"Status\":\"Enabled\",\"Prefix\":\"\",\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Role is missing",
            "{\"Role\":\"r\",\"Rules\":[]}|Rules must be a non-empty list",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"On\",\"Prefix\":\"\",\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0].Status must be Enabled or Disabled, not 'On'",
            "{\"Role\":\"r\",\"Rules\":[{\"Prefix\":\"\",\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0].Status must be Enabled or Disabled, not missing",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Prefix\":\"\"}]}|Rules[0].Destination is missing",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Prefix\":\"\",\"Destination\":{\"StorageClass\":\"s\"}}]}|Rules[0].Destination.Bucket is missing",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Prefix\":\"\",\"Destination\":{\"Bucket\":\"d\"}}]}|Rules[0].Destination.StorageClass must name at least one destination site",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Prefix\":\"\",\"Filter\":{\"Prefix\":\"\"},\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0] has both Prefix and Filter",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Filter\":{\"Prefix\":\"a\",\"Tag\":{\"Key\":\"k\",\"Value\":\"v\"}},\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0].Filter must hold one of Prefix, Tag or And",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Filter\":{\"Tag\":{\"Value\":\"v\"}},\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0].Filter.Tag needs a Key",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Filter\":{\"And\":{\"Tags\":{}}},\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0].Filter.And.Tags must be a list",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Filter\":{\"And\":{\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"a\",\"Value\":\"2\"}]}},\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0].Filter.And.Tags[1] repeats tag key 'a'",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Priority\":\"high\",\"Prefix\":\"\",\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0].Priority must be an integer",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Priority\":-1,\"Prefix\":\"\",\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0].Priority must not be negative",
            "{\"Role\":\"r\",\"Rules\":[{\"ID\":\"x\",\"Status\":\"Enabled\",\"Priority\":1,\"Prefix\":\"a\",\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}},{\"ID\":\"x\",\"Status\":\"Enabled\",\"Priority\":2,\"Prefix\":\"b\",\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[1].ID 'x' is used by another rule",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Priority\":1,\"Prefix\":\"a\",\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}},{\"Status\":\"Enabled\",\"Priority\":1,\"Prefix\":\"b\",\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[1].Priority 1 is used by another rule",
            "{\"Role\":\"r\",\"Rules\":[{\"Status\":\"Enabled\",\"Prefix\":\"\",\"DeleteMarkerReplication\":{\"Status\":\"Yes\"},\"Destination\":{\"Bucket\":\"d\",\"StorageClass\":\"s\"}}]}|Rules[0].DeleteMarkerReplication.Status must be Enabled or Disabled, not 'Yes'",
    })
    void rejectsInvalidConfigurationsNamingTheField(String json, String message) {
        assertThatThrownBy(() -> ReplicationConfigurationParser.parse(json))
                .isInstanceOf(InvalidReplicationConfigurationException.class)
                .hasMessageContaining(message);
    }

    @Test
    void rejectsUnknownSitesNamingThemAndTheKnownOnes() {
        ReplicationConfiguration config = ReplicationConfigurationParser.parse(QUICKSTART.replace("aws-location", "aws-location,mars"));
        assertThatThrownBy(() -> config.requireKnownSites(List.of("aws-location")))
                .isInstanceOf(InvalidReplicationConfigurationException.class)
                .hasMessage("Rules[0].Destination.StorageClass names unknown site 'mars' (configured sites: aws-location)");
        assertThat(ReplicationConfigurationParser.parse(QUICKSTART).requireKnownSites(List.of("aws-location"))).isNotNull();
    }

    /**
     * Issue 28 #2: a version whose tags cannot be read is queued with the rules that could select it, written in the
     * configuration's own JSON; read back, they are the same rules, and they choose as the whole configuration would.
     */
    @Test
    void theCandidatesOfAKeyWrittenAsJsonReadBackTheSameAndChooseAsTheWholeConfiguration() {
        ReplicationConfiguration config = ReplicationConfigurationParser.parse("""
                {"Role":"r","Rules":[
                 {"ID":"tagged","Status":"Enabled","Priority":3,"Filter":{"And":{"Prefix":"docs/","Tags":[{"Key":"k","Value":"v"},{"Key":"x","Value":""}]}},
                  "DeleteMarkerReplication":{"Status":"Disabled"},"Destination":{"Bucket":"arn:aws:s3:::one","StorageClass":"site-a"}},
                 {"ID":"other-prefix","Status":"Enabled","Priority":2,"Filter":{"Prefix":"logs/"},
                  "Destination":{"Bucket":"arn:aws:s3:::two","StorageClass":"site-c"}},
                 {"ID":"off","Status":"Disabled","Priority":4,"Filter":{"Prefix":""},"Destination":{"Bucket":"b","StorageClass":"site-c"}},
                 {"ID":"all","Status":"Enabled","Priority":1,"Filter":{"Prefix":""},
                  "DeleteMarkerReplication":{"Status":"Enabled"},"Destination":{"Bucket":"arn:aws:s3:::three","StorageClass":"site-a,site-b"}}]}""");

        assertThat(ReplicationConfigurationParser.parse(ReplicationConfigurationParser.toJson(config))).isEqualTo(config);
        ReplicationConfiguration candidates = config.candidatesFor("docs/readme").orElseThrow();
        assertThat(candidates.rules()).extracting(ReplicationRule::id).containsExactly("tagged", "all");
        assertThat(candidates.sites()).containsExactly("site-a", "site-b");
        ReplicationConfiguration readBack = ReplicationConfigurationParser.parse(ReplicationConfigurationParser.toJson(candidates));
        for (Map<String, String> tags : List.of(Map.<String, String>of(), Map.of("k", "v", "x", ""), Map.of("k", "v"))) {
            assertThat(readBack.ruleFor("docs/readme", tags)).as("%s", tags).isEqualTo(config.ruleFor("docs/readme", tags));
        }
        assertThat(config.candidatesFor("other/")).map(ReplicationConfiguration::rules).hasValueSatisfying(rules ->
                assertThat(rules).extracting(ReplicationRule::id).containsExactly("all"));
    }
}
