package io.backbeatserverless.adapters.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SiteConfigTest {

    private static final Endpoint AWS_EAST = new Endpoint(null, "us-east-1", null, null);
    private static final Endpoint AWS_WEST = new Endpoint(null, "eu-west-1", null, null);
    private static final Endpoint LOCAL = new Endpoint("http://127.0.0.1:8000", "us-east-1", "accessKey1", "verySecretKey1");

    @Test
    void copiesServerSideByDefaultOnlyWithinTheSourcesOwnService() {
        assertThat(site(AWS_WEST, null).copiesServerSideFrom(AWS_EAST)).as("Amazon S3 to Amazon S3, across regions").isTrue();
        assertThat(site(LOCAL, null).copiesServerSideFrom(LOCAL)).as("the same server, the same keys").isTrue();
        assertThat(site(new Endpoint("http://127.0.0.1:8001", "us-east-1", "accessKey1", "verySecretKey1"), null).copiesServerSideFrom(LOCAL))
                .as("another server").isFalse();
        assertThat(site(new Endpoint("http://127.0.0.1:8000", "us-east-1", "otherKey", "otherSecret"), null).copiesServerSideFrom(LOCAL))
                .as("other credentials: the site's may not read the source").isFalse();
        assertThat(site(AWS_WEST, null).copiesServerSideFrom(LOCAL)).as("a local source to Amazon S3").isFalse();
    }

    @Test
    void anExplicitSettingWinsAndAScalitySiteNeverCopiesServerSide() {
        assertThat(site(AWS_WEST, false).copiesServerSideFrom(AWS_EAST)).isFalse();
        assertThat(site(new Endpoint("http://127.0.0.1:8001", "us-east-1", "k", "s"), true).copiesServerSideFrom(LOCAL)).isTrue();
        assertThat(new SiteConfig("zenko", SiteConfig.TYPE_SCALITY, LOCAL, "b", true).copiesServerSideFrom(LOCAL)).isFalse();
        assertThatThrownBy(() -> new SiteConfig("zenko", SiteConfig.TYPE_SCALITY, LOCAL, "b", true, null, false, true))
                .hasMessageContaining("site 'zenko' is of type scality").hasMessageContaining("serverSideCopy");
    }

    private static SiteConfig site(Endpoint endpoint, Boolean serverSideCopy) {
        return new SiteConfig("site", SiteConfig.TYPE_AWS_S3, endpoint, "bucket", true, null, false, serverSideCopy);
    }
}
