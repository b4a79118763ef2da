package io.backbeatserverless.tests.deployed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.backbeatserverless.tests.deployed.AsDeployedReplicationTest.awaitCompleted;
import static io.backbeatserverless.tests.deployed.AsDeployedReplicationTest.awaitSameHistoryAtEverySite;
import static io.backbeatserverless.tests.deployed.AsDeployedReplicationTest.awaitStatus;
import static io.backbeatserverless.tests.deployed.AsDeployedReplicationTest.key;
import static io.backbeatserverless.tests.deployed.AsDeployedReplicationTest.opsJson;
import static io.backbeatserverless.tests.deployed.AsDeployedReplicationTest.put;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The suite can fail: with one action taken out of a role's synthesized policy, the version that needs it is FAILED
 * with AWS's AccessDenied naming the action, and the function's log says so. Here the replicator of site
 * {@code aws-role} loses {@code s3:ListBucketVersions} on its site's bucket: the grant the review found missing (a key
 * re-created after a delete makes the replicator list the key's versions at the site). With the template's policy back,
 * the operator's retry completes it.
 */
@ExtendWith(AsDeployedStack.class)
class AsDeployedLeastPrivilegeTest {

    private static final String ACTION = "s3:ListBucketVersions";

    @Test
    void withoutListBucketVersionsAtTheSiteAKeyRecreatedAfterADeleteFailsNamingTheAction() throws Exception {
        AsDeployedStack.Running stack = AsDeployedStack.stack();
        String role = stack.roles.get("replicator-" + AsDeployedStack.ROLE_SITE);
        Map<String, JsonNode> synthesized = Map.copyOf(stack.rolePolicies.get(role));
        String siteBucket = "arn:aws:s3:::" + AsDeployedStack.ROLE_SITE_BUCKET;
        String policyName = synthesized.entrySet().stream().filter(p -> grants(p.getValue(), ACTION, siteBucket)).map(Map.Entry::getKey)
                .findFirst().orElseThrow(() -> new AssertionError("the template grants " + ACTION + " on " + siteBucket + " to " + role));
        int deniedBefore = stack.accessDenied.size();

        stack.putRolePolicy(role, policyName, without(synthesized.get(policyName), ACTION, siteBucket));
        String key = key("least-privilege");
        String first;
        String marker;
        String recreated;
        try {
            first = put(key, "first life", Map.of());
            marker = stack.s3.deleteObject(r -> r.bucket(AsDeployedStack.SOURCE_BUCKET).key(key)).versionId();
            recreated = put(key, "second life", Map.of());
            awaitStatus(key, recreated, AsDeployedStack.ROLE_SITE, "FAILED");
        } finally {
            stack.putRolePolicy(role, policyName, synthesized.get(policyName));
        }

        JsonNode failed = opsJson("GET", "/_/crr/failed/" + AsDeployedStack.SOURCE_BUCKET + "/" + key + "?versionId=" + recreated, null);
        assertThat(failed.path("Versions")).as("%s", failed).singleElement().satisfies(entry -> {
            assertThat(entry.path("StorageClass").asText()).isEqualTo(AsDeployedStack.ROLE_SITE);
            assertThat(entry.path("Reason").asText()).contains("AccessDenied").contains("is not authorized to perform: " + ACTION)
                    .contains(siteBucket).contains("assumed-role/" + role);
        });
        List<String> denied = new ArrayList<>(stack.accessDenied.subList(deniedBefore, stack.accessDenied.size()));
        assertThat(denied).as("the replicator's log names the action and the version that failed")
                .anySatisfy(line -> assertThat(line).startsWith("replicator-" + AsDeployedStack.ROLE_SITE + ": ")
                        .contains(ACTION).contains(recreated));
        stack.accessDenied.removeAll(denied); // expected here, and only here

        opsJson("POST", "/_/crr/failed", "[{\"Bucket\":\"" + AsDeployedStack.SOURCE_BUCKET + "\",\"Key\":\"" + key + "\",\"VersionId\":\""
                + recreated + "\",\"StorageClass\":\"" + AsDeployedStack.ROLE_SITE + "\"}]");
        for (String version : List.of(first, marker, recreated)) {
            awaitCompleted(key, version);
        }
        awaitSameHistoryAtEverySite(key);
        assertThat(stack.deniedToRoles()).as("nothing denied once the template's policy is back").isEmpty();
    }

    /** Whether a statement of {@code policy} allows {@code action} on {@code resource}. */
    private static boolean grants(JsonNode policy, String action, String resource) {
        for (JsonNode statement : policy.path("Statement")) {
            if (values(statement.path("Action")).contains(action) && values(statement.path("Resource")).contains(resource)) {
                return true;
            }
        }
        return false;
    }

    /** {@code policy} with {@code action} taken out of the statements that grant it on {@code resource}. */
    private static JsonNode without(JsonNode policy, String action, String resource) {
        ObjectNode copy = policy.deepCopy();
        for (JsonNode statement : copy.withArray("Statement")) {
            List<String> actions = values(statement.path("Action"));
            if (actions.contains(action) && values(statement.path("Resource")).contains(resource)) {
                actions.remove(action);
                ArrayNode kept = ((ObjectNode) statement).putArray("Action");
                actions.forEach(kept::add);
            }
        }
        return copy;
    }

    private static List<String> values(JsonNode node) {
        List<String> values = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(v -> values.add(v.asText()));
        } else if (!node.isMissingNode()) {
            values.add(node.asText());
        }
        return values;
    }
}
