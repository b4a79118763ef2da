package io.backbeatserverless.tests.jarprobes;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.kafka.EntryPublisher;
import software.amazon.msk.auth.iam.IAMClientCallbackHandler;
import software.amazon.msk.auth.iam.IAMLoginModule;

import javax.security.auth.Subject;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The client side of MSK's IAM authentication, run from source with a deployment jar alone on the class
 * path: the SASL client the login module registers signs its first message with the credentials of the
 * environment (no broker needed for that), and a producer configured as on MSK (SASL_SSL, AWS_MSK_IAM)
 * is built. Prints {@code SIGNED <payload>} and {@code PRODUCER built}.
 * Usage: MskIamAuthProbe <MSK broker host> <bootstrap servers nobody listens on>
 */
public final class MskIamAuthProbe {

    private MskIamAuthProbe() {
    }

    public static void main(String[] args) throws Exception {
        new IAMLoginModule().initialize(new Subject(), null, Map.of(), Map.of());
        IAMClientCallbackHandler callbacks = new IAMClientCallbackHandler();
        callbacks.configure(Map.of(), IAMLoginModule.MECHANISM, List.of(new AppConfigurationEntry(IAMLoginModule.class.getName(),
                AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, Map.of())));
        SaslClient client = Sasl.createSaslClient(new String[]{IAMLoginModule.MECHANISM}, null, "kafka", args[0], Map.of(), callbacks);
        System.out.println("SIGNED " + new String(client.evaluateChallenge(new byte[0]), StandardCharsets.UTF_8));

        try (EntryPublisher ignored = EntryPublisher.connect(new BackbeatConfig.KafkaSettings(args[1], null, null, 1, true), "msk-iam-probe")) {
            System.out.println("PRODUCER built");
        }
        System.exit(0);
    }
}
