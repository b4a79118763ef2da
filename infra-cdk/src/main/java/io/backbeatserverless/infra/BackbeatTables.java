package io.backbeatserverless.infra;

import io.backbeatserverless.adapters.dynamodb.TableSchemas;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.services.dynamodb.Attribute;
import software.amazon.awscdk.services.dynamodb.AttributeType;
import software.amazon.awscdk.services.dynamodb.BillingMode;
import software.amazon.awscdk.services.dynamodb.GlobalSecondaryIndexProps;
import software.amazon.awscdk.services.dynamodb.PointInTimeRecoverySpecification;
import software.amazon.awscdk.services.dynamodb.ProjectionType;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.dynamodb.TableEncryption;
import software.amazon.awscdk.services.iam.IGrantable;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.constructs.Construct;

import java.util.ArrayList;
import java.util.List;

/**
 * The project's DynamoDB tables, keyed as {@link TableSchemas} declares: on demand, encrypted with an
 * AWS managed key, point-in-time recovery, TTL where entries expire; kept when the stack is deleted.
 */
final class BackbeatTables extends Construct {

    final Table status;
    final Table failedEntries;
    final Table siteState;
    final Table checkpoints;
    final Table metrics;
    final Table rules;
    final Table verify;

    BackbeatTables(Construct scope, String id) {
        super(scope, id);
        // TTL: a version's record expires once every site of its rule has COMPLETED it (deployment's statusRetentionDays).
        status = table("ReplicationStatus", TableSchemas.STATUS_PK, TableSchemas.STATUS_SK, TableSchemas.TTL_ATTRIBUTE);
        failedEntries = table("FailedEntries", TableSchemas.FAILED_PK, TableSchemas.FAILED_SK, TableSchemas.TTL_ATTRIBUTE);
        failedEntries.addGlobalSecondaryIndex(GlobalSecondaryIndexProps.builder()
                .indexName(TableSchemas.FAILED_BY_VERSION_INDEX)
                .partitionKey(stringAttribute(TableSchemas.FAILED_VERSION_ATTRIBUTE))
                .projectionType(ProjectionType.ALL)
                .build());
        siteState = table("SiteState", TableSchemas.SITE_STATE_PK, null, null);
        // TTL: a resumable copy's progress expires (feed checkpoints have no expiresAt and never do).
        checkpoints = table("Checkpoints", TableSchemas.CHECKPOINT_PK, null, TableSchemas.TTL_ATTRIBUTE);
        metrics = table("Metrics", TableSchemas.METRICS_PK, TableSchemas.METRICS_SK, TableSchemas.TTL_ATTRIBUTE);
        rules = table("Rules", TableSchemas.RULES_PK, null, null);
        verify = table("Verify", TableSchemas.VERIFY_PK, TableSchemas.VERIFY_SK, TableSchemas.TTL_ATTRIBUTE);
    }

    List<Table> all() {
        return List.of(status, failedEntries, siteState, checkpoints, metrics, rules, verify);
    }

    RuntimeConfiguration.TableNames names() {
        return new RuntimeConfiguration.TableNames(status.getTableName(), failedEntries.getTableName(),
                siteState.getTableName(), checkpoints.getTableName(), metrics.getTableName(), rules.getTableName(),
                verify.getTableName());
    }

    /**
     * {@code actions} (DynamoDB's, without the {@code dynamodb:} prefix) on {@code table}, and on the failed entries'
     * {@code byVersion} index when a Query is among them (a query of an index is authorized on the index's ARN: Service
     * Authorization Reference, Amazon DynamoDB, resource types table and index). Each function is granted, table by
     * table, what its code does there and nothing more (docs/deploy.md lists them).
     */
    void grant(IGrantable grantee, Table table, String... actions) {
        List<String> resources = new ArrayList<>(List.of(table.getTableArn()));
        if (table == failedEntries && java.util.Arrays.asList(actions).contains("Query")) {
            resources.add(table.getTableArn() + "/index/" + TableSchemas.FAILED_BY_VERSION_INDEX);
        }
        grantee.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(java.util.Arrays.stream(actions).map(action -> "dynamodb:" + action).toList())
                .resources(resources).build());
    }

    private Table table(String id, String partitionKey, String sortKey, String ttlAttribute) {
        var builder = Table.Builder.create(this, id)
                .partitionKey(stringAttribute(partitionKey))
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .encryption(TableEncryption.AWS_MANAGED)
                .pointInTimeRecoverySpecification(PointInTimeRecoverySpecification.builder()
                        .pointInTimeRecoveryEnabled(true).build())
                // Replication status and failed entries outlive a stack update gone wrong.
                .removalPolicy(RemovalPolicy.RETAIN);
        if (sortKey != null) {
            builder.sortKey(stringAttribute(sortKey));
        }
        if (ttlAttribute != null) {
            builder.timeToLiveAttribute(ttlAttribute);
        }
        return builder.build();
    }

    private static Attribute stringAttribute(String name) {
        return Attribute.builder().name(name).type(AttributeType.STRING).build();
    }
}
