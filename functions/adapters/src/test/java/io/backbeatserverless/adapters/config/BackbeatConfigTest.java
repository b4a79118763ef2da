package io.backbeatserverless.adapters.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackbeatConfigTest {

    private static final Path LOCAL = Path.of("../../localstack/backbeat.json");

    @Test
    void readsTheLocalStacksConfiguration() {
        BackbeatConfig config = BackbeatConfig.load(LOCAL);
        assertThat(config.siteNames()).containsExactly("aws-location");
        assertThat(config.requireSite("aws-location").consumerGroup()).isEqualTo("backbeat-replication-aws-location");
        assertThat(config.dynamodb().tables().all()).hasSize(7);
        assertThat(config.kafka().iamAuth()).isFalse();
    }

    @Test
    void journalFeedsAreReadOftenByDefaultAndAListingSeldom() {
        // The wait after an empty journal read is latency every version pays (issue 18: at 1 s, put to COMPLETED p99 was
        // well over a second on a CloudServer source); an empty journal read is one small request.
        assertThat(new BackbeatConfig.FeedSettings("cloudserver-record-log", 0, "http://127.0.0.1:9000/MDFile/recordLog", null, null, 0)
                .intervalMs()).isEqualTo(100);
        assertThat(new BackbeatConfig.FeedSettings("bucketd-raft-log", 0, "http://127.0.0.1:9000", null, 1, 0).intervalMs()).isEqualTo(100);
        assertThat(BackbeatConfig.FeedSettings.listing(0).intervalMs()).isEqualTo(1000);
        assertThat(new BackbeatConfig.FeedSettings("cloudserver-record-log", 700, "http://127.0.0.1:9000/MDFile/recordLog", null, null, 0)
                .intervalMs()).isEqualTo(700);
    }

    @Test
    void environmentVariablesOverrideSingleFields() throws Exception {
        BackbeatConfig config = BackbeatConfig.fromEnvironment(Map.of(
                "BACKBEAT_CONFIG_JSON", Files.readString(LOCAL),
                "BACKBEAT_SET_kafka__bootstrapServers", "b-1.msk.example:9098",
                "BACKBEAT_SET_kafka__iamAuth", "true",
                "BACKBEAT_SET_source__feed__intervalMs", "250",
                "BACKBEAT_SET_ops__failedEntryRetentionHours", "48"));
        assertThat(config.kafka().bootstrapServers()).isEqualTo("b-1.msk.example:9098");
        assertThat(config.kafka().iamAuth()).isTrue();
        assertThat(config.source().feed().intervalMs()).isEqualTo(250);
        assertThat(config.ops().failedEntryRetentionHours()).isEqualTo(48);
        assertThat(config.siteNames()).containsExactly("aws-location");
    }

    @Test
    void namesWhatIsWrong() throws Exception {
        assertThatThrownBy(() -> BackbeatConfig.fromEnvironment(Map.of()))
                .hasMessageContaining("BACKBEAT_CONFIG");
        String local = Files.readString(LOCAL);
        assertThatThrownBy(() -> BackbeatConfig.parse(local.replaceFirst("\\{", "{\"sourse\": {},")))
                .as("a typo is not silently ignored").hasMessageContaining("sourse");
        assertThatThrownBy(() -> BackbeatConfig.fromEnvironment(Map.of("BACKBEAT_CONFIG_JSON", "{}",
                "BACKBEAT_SET_kafka__bootstrapServers", "x"))).hasMessageContaining("source");
    }

    @Test
    void anInventoryForVerifyNamesWhatIsWrongWithIt() {
        BackbeatConfig config = BackbeatConfig.load(LOCAL);
        BackbeatConfig.OpsSettings ops = config.ops();
        assertThatThrownBy(() -> ops.withVerifyInventory(new BackbeatConfig.InventorySettings(null, 0, "inventory-bucket", Map.of())))
                .hasMessageContaining("ops.verifyInventory.source").hasMessageContaining("s3://");
        assertThatThrownBy(() -> config.withOps(ops.withVerifyInventory(new BackbeatConfig.InventorySettings(null, 0, "s3://reports",
                Map.of("elsewhere", "s3://reports")))))
                .hasMessageContaining("ops.verifyInventory.sites").hasMessageContaining("elsewhere").hasMessageContaining("aws-location");
        BackbeatConfig.InventorySettings defaults = new BackbeatConfig.InventorySettings(null, 0, "s3://reports/inventories", null);
        assertThat(defaults.configurationId()).isEqualTo("backbeat");
        assertThat(defaults.fromVersions()).isEqualTo(10_000_000);
    }
}
