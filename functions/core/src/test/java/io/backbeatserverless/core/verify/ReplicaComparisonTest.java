package io.backbeatserverless.core.verify;

import io.backbeatserverless.core.metadata.ReplicaEncryption;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ReplicaComparisonTest {

    private static VersionDetails withHeaders(Map<String, String> contentHeaders) {
        return new VersionDetails(4096, "8a8933dab8deebe52e30886da1ef6ee2", contentHeaders, Map.of(), Map.of(), null, true);
    }

    /**
     * CloudServer keeps no Content-Type for an object put without one; the replica at an S3 site has the store's default.
     * Before: DIVERGENT ("content-type: absent at the source, 'application/octet-stream' at the site"), for every such
     * object, which no repair could change (found by hand against CloudServer 8.8.35).
     */
    @Test
    void aStoresDefaultTypeMatchesNoTypeAtTheSource() {
        VersionDetails source = withHeaders(Map.of());
        assertThat(ReplicaComparison.differences(source, withHeaders(Map.of("content-type", "application/octet-stream")), true)).isEmpty();
        assertThat(ReplicaComparison.differences(source, withHeaders(Map.of("content-type", "binary/octet-stream")), true)).isEmpty();
    }

    @Test
    void anyOtherTypeOrATypeTheSourceHasIsStillCompared() {
        assertThat(ReplicaComparison.differences(withHeaders(Map.of()), withHeaders(Map.of("content-type", "text/html")), true))
                .containsExactly("content-type: absent at the source, 'text/html' at the site");
        assertThat(ReplicaComparison.differences(withHeaders(Map.of("content-type", "text/plain")),
                withHeaders(Map.of("content-type", "application/octet-stream")), true))
                .containsExactly("content-type: 'text/plain' at the source, 'application/octet-stream' at the site");
        assertThat(ReplicaComparison.differences(withHeaders(Map.of("content-type", "binary/octet-stream")),
                withHeaders(Map.of()), true)).as("a type at the source the site dropped")
                .containsExactly("content-type: 'binary/octet-stream' at the source, absent at the site");
    }

    private static VersionDetails withProtection(Map<String, String> protection) {
        return new VersionDetails(4096, "8a8933dab8deebe52e30886da1ef6ee2", Map.of(), Map.of(), Map.of(), null, true, protection);
    }

    /** Issue 30: a lock in force that the replica lacks is a change of metadata alone, repaired in place. */
    @Test
    void aRetentionOrLegalHoldTheReplicaLacksDiffersAsMetadataAlone() {
        var source = withProtection(Map.of(VersionDetails.LOCK_MODE, "COMPLIANCE", VersionDetails.LOCK_UNTIL, "2027-01-01T00:00:00Z",
                VersionDetails.LEGAL_HOLD, "ON", VersionDetails.ENCRYPTION, "AES256"));
        var replica = withProtection(Map.of(VersionDetails.ENCRYPTION, "AES256"));

        assertThat(ReplicaComparison.differences(source, replica, true, ReplicaEncryption.AS_SOURCE)).containsExactly(
                "retention mode: 'COMPLIANCE' at the source, absent at the site",
                "retain-until date: '2027-01-01T00:00:00Z' at the source, absent at the site",
                "legal hold: 'ON' at the source, absent at the site");
        assertThat(ReplicaComparison.onlyMetadataDiffers(source, replica, true, ReplicaEncryption.AS_SOURCE)).isTrue();
    }

    /** Issue 30: the encryption the site's rule asks for, and its KMS key; a difference needs a copy (S3 cannot re-encrypt in place). */
    @Test
    void anEncryptionOtherThanTheSitesRuleAsksForIsADifferenceACopyRepairs() {
        var kmsSource = withProtection(Map.of(VersionDetails.ENCRYPTION, "aws:kms", VersionDetails.KMS_KEY, "source-key"));
        var siteRule = new ReplicaEncryption(null, "site-key");

        assertThat(ReplicaComparison.differences(kmsSource, withProtection(Map.of(VersionDetails.ENCRYPTION, "aws:kms",
                VersionDetails.KMS_KEY, "site-key")), true, siteRule)).isEmpty();
        var unencrypted = withProtection(Map.of(VersionDetails.ENCRYPTION, "AES256"));
        assertThat(ReplicaComparison.differences(kmsSource, unencrypted, true, siteRule)).containsExactly(
                "encryption: 'aws:kms' expected at the site (source 'aws:kms'), 'AES256' there",
                "KMS key: 'site-key' expected at the site, absent there");
        assertThat(ReplicaComparison.onlyMetadataDiffers(kmsSource, unencrypted, true, siteRule)).isFalse();
        assertThat(ReplicaComparison.differences(kmsSource, unencrypted, true, null)).as("not compared where the site decides").isEmpty();
        assertThat(ReplicaComparison.differences(unencrypted, unencrypted, true, new ReplicaEncryption("aws:kms", null)))
                .containsExactly("encryption: 'aws:kms' expected at the site (source 'AES256'), 'AES256' there");
    }
}
