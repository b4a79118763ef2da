package io.backbeatserverless.ops;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.config.Endpoint;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackfillJobsTest {

    /**
     * A CloudServer source keeps each version's status in its metadata, which a job's page outcomes do not write back:
     * a job is refused there with why and what to do instead, before anything is stored (no store is given here).
     */
    @Test
    void aJobOnACloudServerSourceIsRefusedWithWhyAndWhatToDoInstead() {
        String refusal = new BackbeatConfig.SourceConfig(BackbeatConfig.SourceConfig.TYPE_CLOUDSERVER,
                new Endpoint("http://127.0.0.1:8000", "us-east-1", "k", "s"), null).backfillJobsRefusal();
        BackfillJobs jobs = new BackfillJobs(null, List.of("aws-location"), Clock.systemUTC(), refusal);

        assertThatThrownBy(() -> jobs.start("{\"Bucket\":\"b\"}")).isInstanceOf(OpsException.class)
                .hasMessageContaining("CloudServer source").hasMessageContaining("verify --repair");
        assertThat(new BackbeatConfig.SourceConfig(BackbeatConfig.SourceConfig.TYPE_S3, new Endpoint("http://127.0.0.1:8000", "us-east-1", "k", "s"), null)
                .backfillJobsRefusal()).isNull();
    }
}
