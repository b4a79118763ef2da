package io.backbeatserverless.tests;

import io.backbeatserverless.adapters.config.BackbeatConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbRuleStore;
import io.backbeatserverless.adapters.dynamodb.TableSchemas;
import io.backbeatserverless.core.verify.Finding;
import io.backbeatserverless.core.verify.VerifyRequest;
import io.backbeatserverless.core.verify.VerifyRun;
import io.backbeatserverless.verifier.Verifier;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Verify as {@code Verifier.create} builds it, run in the test's JVM on a configuration of the test's own (a site bucket
 * the stack does not know, say), with its buckets' rules in a rule table of its own and its runs in a run table of its
 * own: the stack's feed, which reads buckets' rules, leaves these buckets alone, and the stack's verify worker never
 * takes the runs.
 */
final class VerifyInThisJvm {

    private final BackbeatConfig config;

    private VerifyInThisJvm(BackbeatConfig config) {
        this.config = config;
    }

    /** {@code config} with tables of its own for rules and runs ({@code own} names them), and {@code rules} per bucket in them. */
    static VerifyInThisJvm of(StackClients stack, BackbeatConfig config, String own, Map<String, String> rules) {
        var defaults = stack.config.dynamodb().tables();
        BackbeatConfig.TableNames tables = new BackbeatConfig.TableNames(defaults.status(), defaults.failedEntries(), defaults.siteState(),
                defaults.checkpoints(), defaults.metrics(), "rules-" + own, "verify-" + own);
        TableSchemas.createMissing(stack.dynamo, tables, Duration.ofSeconds(30));
        var store = new DynamoDbRuleStore(stack.dynamo, tables.rules());
        rules.forEach(store::put);
        return new VerifyInThisJvm(config.withDynamodb(new BackbeatConfig.DynamoDbSettings(stack.config.dynamodb().endpoint(), tables))
                .withSource(new BackbeatConfig.SourceConfig(config.source().type(), config.source().endpoint(), config.source().feed(),
                        BackbeatConfig.SourceConfig.RULES_FROM_STORE)));
    }

    BackbeatConfig config() {
        return config;
    }

    /** A run of verify over {@code bucket} at {@code site} (deep: every key read whole), to its end; its findings. */
    List<Finding> findings(String bucket, String site, boolean deep) throws Exception {
        try (Verifier verifier = Verifier.create(config, Clock.systemUTC())) {
            String id = VerifyRun.newId(Instant.now());
            verifier.runs().create(VerifyRun.started(id, new VerifyRequest(bucket, List.of(site), "", false, Duration.ZERO, deep, 0),
                    Instant.now()));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                verifier.worker("in-this-jvm").work(Duration.ofSeconds(10));
                return verifier.runs().find(id).orElseThrow().phase().finished();
            });
            assertThat(verifier.runs().find(id).orElseThrow().phase()).isEqualTo(VerifyRun.Phase.DONE);
            return new ArrayList<>(verifier.runs().findings(id, null, null, 100).findings());
        }
    }
}
