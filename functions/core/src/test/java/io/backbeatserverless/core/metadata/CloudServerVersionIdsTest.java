package io.backbeatserverless.core.metadata;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CloudServerVersionIdsTest {

    @Test
    void externalIdsAreTheHexOfInternalOnes() {
        String internal = "98204407893972999999RG001  0";
        String external = CloudServerVersionIds.toExternal(internal);
        assertThat(external).startsWith("3938323034").hasSize(internal.length() * 2);
        assertThat(CloudServerVersionIds.toInternal(external)).isEqualTo(internal);
    }

    /** A backfill lists objects put before versioning was enabled: their version is "null" at CloudServer's S3 API too. */
    @Test
    void theNullVersionIsSpelledTheSameBothWays() {
        assertThat(CloudServerVersionIds.toInternal("null")).isEqualTo("null");
        assertThat(CloudServerVersionIds.toExternal("null")).isEqualTo("null");
    }
}
