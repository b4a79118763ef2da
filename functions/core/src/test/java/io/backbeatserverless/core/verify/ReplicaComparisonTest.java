package io.backbeatserverless.core.verify;

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
}
