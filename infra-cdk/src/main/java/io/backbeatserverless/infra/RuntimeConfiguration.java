package io.backbeatserverless.infra;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;

/**
 * Writes the {@code BACKBEAT_CONFIG_JSON} each function and the populator read (the functions'
 * {@code BackbeatConfig}, docs/configuration.md) from the deployment and the resources of the stack.
 * Values that only CloudFormation knows (region, table names, mapping ids, brokers) are CDK tokens
 * inside the JSON text; they resolve at deploy time.
 *
 * <p>Credentials kept in Secrets Manager are named by their secret's ARN ({@code credentialsSecret}), which the function
 * reads at run time: no key is in the template or in an environment variable. Each secret only goes to what needs it: a
 * site's keys to that site's replicator and the verifier, the source's keys to the populator, the replicators, the
 * status function and the verifier.
 */
final class RuntimeConfiguration {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Stands for every site where {@link #render} takes the one site whose credentials go in. */
    private static final String ALL_SITES = "\u0000all";

    private final DeploymentConfig deployment;
    private final String region;
    private final String bootstrapServers;
    private final TableNames tables;
    private final String sourceChangesQueueUrl;

    /** The table names the stack created (tokens). */
    record TableNames(String status, String failedEntries, String siteState, String checkpoints, String metrics, String rules,
                      String verify) {
    }

    /** @param sourceChangesQueueUrl the S3-events feed's queue (a token), or null on the listing feed */
    RuntimeConfiguration(DeploymentConfig deployment, String region, String bootstrapServers, TableNames tables,
                         String sourceChangesQueueUrl) {
        this.deployment = deployment;
        this.region = region;
        this.bootstrapServers = bootstrapServers;
        this.tables = tables;
        this.sourceChangesQueueUrl = sourceChangesQueueUrl;
        if (deployment.source().s3Events() && sourceChangesQueueUrl == null) {
            throw new IllegalArgumentException("the S3-events feed needs its queue");
        }
    }

    /** For the replicator of {@code site}: the source's and that site's credentials. */
    String forReplicator(String site) {
        return render(true, site, Map.of());
    }

    /**
     * For the status function: it writes statuses back to a CloudServer source, and puts the replication events on the
     * account's default EventBridge bus, with the deployment's replication time threshold.
     */
    String forStatusProcessor() {
        ObjectNode root = configuration(true, null, Map.of());
        root.putObject("events").put("eventBusName", EVENT_BUS).put("thresholdMinutes", deployment.alarms().replicationTimeThresholdMinutes());
        return root.toString();
    }

    /** Where the status function puts replication events (as S3 sends its own events to the default bus). */
    static final String EVENT_BUS = "default";

    String forPopulator() {
        return render(true, null, Map.of());
    }

    /** For the verifier: it reads the source and every site, so all their credentials. */
    String forVerifier() {
        return forVerifier(null);
    }

    /** Where the stack's S3 Inventory reports land (issue 29), for the verifier: the source's and those of the sites named. */
    record VerifyInventory(String location, java.util.List<String> sites, long fromVersions) {
    }

    String forVerifier(VerifyInventory inventory) {
        ObjectNode root = configuration(true, ALL_SITES, Map.of());
        if (inventory != null) {
            ObjectNode node = ((ObjectNode) root.get("ops")).putObject("verifyInventory");
            node.put("configurationId", VerifyInventories.CONFIGURATION_ID);
            node.put("fromVersions", inventory.fromVersions());
            node.put("source", inventory.location());
            ObjectNode sites = node.putObject("sites");
            inventory.sites().forEach(site -> sites.put(site, inventory.location()));
        }
        return root.toString();
    }

    /**
     * For the ops function: no store credentials, each site's event source mapping id (pause/resume), and the bucket where the
     * MSK triggers keep the batches they gave up on (listed and replayed through the ops API).
     */
    String forOps(Map<String, String> eventSourceMappingBySite, String triggerFailuresBucket) {
        ObjectNode root = configuration(false, null, eventSourceMappingBySite);
        ((ObjectNode) root.get("ops")).put("triggerFailuresBucket", triggerFailuresBucket);
        return root.toString();
    }

    private String render(boolean withSourceCredentials, String siteWithCredentials, Map<String, String> mappings) {
        return configuration(withSourceCredentials, siteWithCredentials, mappings).toString();
    }

    private ObjectNode configuration(boolean withSourceCredentials, String siteWithCredentials, Map<String, String> mappings) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode kafka = root.putObject("kafka");
        // The brokers accept IAM over TLS only (port 9098): every client of ours authenticates with its role.
        kafka.put("bootstrapServers", bootstrapServers);
        kafka.put("iamAuth", true);
        kafka.put("partitions", deployment.kafka().partitions());

        DeploymentConfig.Source source = deployment.source();
        ObjectNode sourceNode = root.putObject("source");
        sourceNode.put("type", source.type());
        sourceNode.set("endpoint", endpoint(source.endpointUrl(), source.region(),
                withSourceCredentials ? source.credentialsSecretArn() : null));
        // The feed the deployment names: S3 event notifications through the stack's queue (an AWS S3 source's default),
        // or listing passes.
        if (source.s3Events()) {
            sourceNode.putObject("feed").put("type", "s3-events-sqs").put("url", sourceChangesQueueUrl);
        } else {
            sourceNode.putObject("feed").put("type", "listing").put("intervalMs", source.feedIntervalMs());
        }
        if ("s3".equals(source.type()) && source.endpointUrl() == null) {
            // AWS S3 buckets must not hold a Backbeat-style configuration: their rules come from the rule store.
            sourceNode.put("rulesFrom", "store");
        }

        var sites = root.putArray("sites");
        for (DeploymentConfig.Site site : deployment.sites()) {
            ObjectNode node = sites.addObject();
            node.put("name", site.name());
            node.put("type", site.type());
            node.set("endpoint", endpoint(site.endpointUrl(), site.region(),
                    site.name().equals(siteWithCredentials) || ALL_SITES.equals(siteWithCredentials) ? site.credentialsSecretArn() : null));
            if (site.bucket() != null) {
                node.put("bucket", site.bucket());
            }
            node.put("bucketMatch", site.bucketMatch());
            if (site.serverSideCopy() != null) {
                node.put("serverSideCopy", site.serverSideCopy());
            }
            if (site.autoRetrySeconds() != null) {
                site.autoRetrySeconds().forEach(node.putArray("autoRetrySeconds")::add);
            }
            if (site.maxBytesPerSecond() != null) {
                node.put("maxBytesPerSecond", site.maxBytesPerSecond());
            }
            if (site.encryption() != null) {
                node.putObject("encryption").put("mode", site.encryption().mode()).put("kmsKeyId", site.encryption().kmsKeyId());
            }
        }

        ObjectNode dynamodb = root.putObject("dynamodb");
        dynamodb.putObject("endpoint").put("region", region);
        dynamodb.putObject("tables")
                .put("status", tables.status())
                .put("failedEntries", tables.failedEntries())
                .put("siteState", tables.siteState())
                .put("checkpoints", tables.checkpoints())
                .put("metrics", tables.metrics())
                .put("rules", tables.rules())
                .put("verify", tables.verify());

        root.putObject("eventSource")
                .put("batchSize", deployment.eventSource().batchSize())
                .put("batchWindowMs", deployment.eventSource().batchWindowSeconds() * 1000L);
        root.putObject("replicator").put("keyConcurrency", deployment.functions().replicatorKeyConcurrency());

        ObjectNode ops = root.putObject("ops");
        ops.put("failedEntryRetentionHours", deployment.failedEntryRetentionHours());
        ops.put("statusRetentionDays", deployment.statusRetentionDays());
        ObjectNode mappingNode = ops.putObject("eventSourceMappings");
        mappings.forEach(mappingNode::put);
        return root;
    }

    /**
     * An endpoint: no url for AWS; its keys by the name of their secret, which the function reads at run time (never the
     * keys themselves, nor a {@code {{resolve:secretsmanager:…}}} reference, which CloudFormation would turn into the
     * keys in clear in the function's environment).
     */
    private ObjectNode endpoint(String url, String endpointRegion, String credentialsSecretArn) {
        ObjectNode node = JSON.createObjectNode();
        if (url != null) {
            node.put("url", url);
        }
        node.put("region", endpointRegion != null ? endpointRegion : region);
        if (credentialsSecretArn != null) {
            node.put("credentialsSecret", credentialsSecretArn);
        }
        return node;
    }

    /** The secrets of the source and sites whose keys the function of this configuration reads. */
    java.util.List<String> secretsOf(boolean withSourceCredentials, String siteWithCredentials) {
        java.util.List<String> secrets = new java.util.ArrayList<>();
        if (withSourceCredentials && deployment.source().credentialsSecretArn() != null) {
            secrets.add(deployment.source().credentialsSecretArn());
        }
        for (DeploymentConfig.Site site : deployment.sites()) {
            if (site.credentialsSecretArn() != null && (site.name().equals(siteWithCredentials) || ALL_SITES.equals(siteWithCredentials))) {
                secrets.add(site.credentialsSecretArn());
            }
        }
        return secrets;
    }

    /** For the replicator of {@code site}: the source's and that site's secrets. */
    java.util.List<String> replicatorSecrets(String site) {
        return secretsOf(true, site);
    }

    /** For the status function and the populator: the source's secret. */
    java.util.List<String> sourceSecrets() {
        return secretsOf(true, null);
    }

    /** For the verifier: the source's and every site's secrets. */
    java.util.List<String> verifierSecrets() {
        return secretsOf(true, ALL_SITES);
    }
}
