package io.backbeatserverless.infra;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DeploymentConfigTest {

    @Test
    void theExampleFileDescribesAServerlessTwoSiteDeployment() {
        DeploymentConfig example = DeploymentConfig.load(Path.of("deployment.example.json"));
        assertThat(example.sites()).extracting(DeploymentConfig.Site::name).containsExactly("aws-location", "zenko");
        assertThat(example.kafka().serverless()).isTrue();
        assertThat(example.sites().get(0).writableBuckets()).containsExactly("my-replica-bucket");
        assertThat(example.sites().get(1).writableBuckets()).as("a site reached with stored keys gets no IAM grant").isEmpty();
    }

    @Test
    void aTypoIsRejectedByName() {
        assertThatThrownBy(() -> DeploymentConfig.parse("""
                {"source": {"buckets": ["b"]}, "sites": [{"name": "s", "bucket": "d"}], "alarm": {}}"""))
                .hasMessageContaining("alarm");
    }

    @Test
    void anAwsSiteWithoutBucketsCannotBeScoped() {
        assertThatThrownBy(() -> DeploymentConfig.parse("""
                {"source": {"buckets": ["b"]}, "sites": [{"name": "s"}]}"""))
                .hasMessageContaining("'bucket' or 'destinationBuckets'");
    }

    @Test
    void siteNamesMustSuitConsumerGroupsAndConstructIds() {
        assertThatThrownBy(() -> DeploymentConfig.parse("""
                {"source": {"buckets": ["b"]}, "sites": [{"name": "a site", "bucket": "d"}]}"""))
                .hasMessageContaining("must match");
    }
}
