package io.backbeatserverless.core.entry;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VersionKeyTest {

    @Test
    void splitsCloudServerVersionKeys() {
        VersionKey key = VersionKey.parse("dir/ünï cödé %+ key\u000098204407893972999999RG001  0");
        assertThat(key.objectKey()).isEqualTo("dir/ünï cödé %+ key");
        assertThat(key.versionId()).isEqualTo("98204407893972999999RG001  0");
        assertThat(key.encoded()).isEqualTo("dir/ünï cödé %+ key\u000098204407893972999999RG001  0");
    }

    @Test
    void tellsMasterKeysFromVersionKeys() {
        assertThat(VersionKey.isVersionKey("obj1")).isFalse();
        assertThat(VersionKey.isVersionKey("obj1\u0000v1")).isTrue();
        assertThatThrownBy(() -> VersionKey.parse("obj1")).isInstanceOf(MalformedEntryException.class);
        assertThatThrownBy(() -> VersionKey.parse("obj1\u0000")).hasMessageContaining("no version id");
    }
}
