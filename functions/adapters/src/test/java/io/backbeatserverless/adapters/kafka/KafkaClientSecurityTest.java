package io.backbeatserverless.adapters.kafka;

import io.backbeatserverless.adapters.config.BackbeatConfig.KafkaSettings;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaClientSecurityTest {

    @Test
    void plainClientsOnlyNameTheBrokers() {
        assertThat(KafkaClientSecurity.properties(new KafkaSettings("127.0.0.1:9092", null, null, 0)))
                .containsOnlyKeys("bootstrap.servers");
    }

    @Test
    void mskClientsAuthenticateWithIamOverTls() {
        var p = KafkaClientSecurity.properties(new KafkaSettings("b-1.msk.example:9098", null, null, 0, true));
        assertThat(p).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "AWS_MSK_IAM")
                .containsEntry("sasl.client.callback.handler.class", "software.amazon.msk.auth.iam.IAMClientCallbackHandler");
        // The login module and handler the settings name are on the classpath (the functions' packages carry them).
        try (EntryPublisher publisher = EntryPublisher.connect(new KafkaSettings("127.0.0.1:1", null, null, 0, true), "iam-check")) {
            assertThat(publisher).isNotNull();
        }
    }
}
