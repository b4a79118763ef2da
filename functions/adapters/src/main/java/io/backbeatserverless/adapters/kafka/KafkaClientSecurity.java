package io.backbeatserverless.adapters.kafka;

import io.backbeatserverless.adapters.config.BackbeatConfig.KafkaSettings;

import java.util.HashMap;
import java.util.Map;

/**
 * The connection settings every Kafka client of the project shares: the brokers and, on Amazon MSK,
 * IAM authentication (SASL mechanism AWS_MSK_IAM over TLS, with the function's or task's role, through
 * {@code aws-msk-iam-auth}). The MSK triggers of the Lambda functions authenticate on their own; these
 * are for the producers, the admin client and the populator.
 */
public final class KafkaClientSecurity {

    private KafkaClientSecurity() {
    }

    public static Map<String, Object> properties(KafkaSettings kafka) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        if (kafka.iamAuth()) {
            p.put("security.protocol", "SASL_SSL");
            p.put("sasl.mechanism", "AWS_MSK_IAM");
            p.put("sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;");
            p.put("sasl.client.callback.handler.class", "software.amazon.msk.auth.iam.IAMClientCallbackHandler");
        }
        return p;
    }
}
