package io.backbeatserverless.infra;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/deploy.md lists each function's permissions between two markers; that list is generated from the synthesized
 * template of a two-site deployment (an AWS S3 site written with the replicator's role, and one with keys in Secrets
 * Manager), so it cannot drift: when the template changes, this test fails and writes the list it expects to
 * {@code infra-cdk/target/deploy-permissions.md}, to paste in.
 */
class DeployPermissionsDocTest {

    static final String BEGIN = "<!-- BEGIN generated permissions (DeployPermissionsDocTest) -->";
    static final String END = "<!-- END generated permissions -->";

    @TempDir
    Path work;

    @Test
    void deployMdListsEachFunctionsPermissionsAsTheTemplateGrantsThem() throws Exception {
        SynthesizedDeployment synthesized = SynthesizedDeployment.of(BackbeatStackTest.TWO_SITES, work);
        String expected = render(synthesized.template().toJSON());
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "deploy-permissions.md"), expected + "\n");
        Path doc = repositoryRoot().resolve("docs/deploy.md");
        String text = Files.readString(doc);
        int from = text.indexOf(BEGIN);
        int to = text.indexOf(END);
        assertThat(from).as("docs/deploy.md has the markers").isNotNegative();
        assertThat(to).isGreaterThan(from);
        String documented = text.substring(from + BEGIN.length(), to).strip();
        assertThat(documented).as("docs/deploy.md's permissions (the expected text is in infra-cdk/target/deploy-permissions.md)")
                .isEqualTo(expected.strip());
    }

    /** Per function (its role), each statement: the actions and the resources, tokens shown as names. */
    @SuppressWarnings("unchecked")
    static String render(Map<String, Object> template) {
        Map<String, Object> resources = (Map<String, Object>) template.get("Resources");
        Map<String, String> functionOfRole = new LinkedHashMap<>();
        resources.forEach((id, resource) -> {
            Map<String, Object> r = (Map<String, Object>) resource;
            Map<String, Object> properties = (Map<String, Object>) r.get("Properties");
            if ("AWS::Lambda::Function".equals(r.get("Type")) && String.valueOf(properties.get("Handler")).startsWith("io.backbeatserverless.")) {
                functionOfRole.put(roleId(properties.get("Role")), describeFunction(id, properties));
            }
            if ("AWS::ECS::TaskDefinition".equals(r.get("Type"))) {
                functionOfRole.put(roleId(properties.get("TaskRoleArn")), "Populator (ECS task role)");
            }
        });
        Map<String, List<String>> lines = new TreeMap<>();
        resources.forEach((id, resource) -> {
            Map<String, Object> r = (Map<String, Object>) resource;
            if (!"AWS::IAM::Policy".equals(r.get("Type"))) {
                return;
            }
            Map<String, Object> properties = (Map<String, Object>) r.get("Properties");
            for (Object role : (List<Object>) properties.get("Roles")) {
                String function = functionOfRole.get(String.valueOf(((Map<String, Object>) role).get("Ref")));
                if (function == null) {
                    continue;
                }
                for (Object statement : (List<Object>) ((Map<String, Object>) properties.get("PolicyDocument")).get("Statement")) {
                    Map<String, Object> s = (Map<String, Object>) statement;
                    lines.computeIfAbsent(function, f -> new ArrayList<>()).add("| " + String.join(", ", strings(s.get("Action")))
                            + " | " + String.join("<br>", strings(s.get("Resource")).stream().map(x -> "`" + x + "`").toList()) + " |");
                }
            }
        });
        StringBuilder out = new StringBuilder();
        lines.forEach((function, statements) -> {
            out.append("\n**").append(function).append("**\n\n| actions | on |\n|---|---|\n");
            statements.forEach(line -> out.append(line).append('\n'));
        });
        return out.toString().strip();
    }

    @SuppressWarnings("unchecked")
    private static String describeFunction(String id, Map<String, Object> properties) {
        String handler = String.valueOf(properties.get("Handler"));
        String name = handler.substring(handler.lastIndexOf('.') + 1, handler.indexOf("::"));
        Object environment = properties.get("Environment");
        Object site = environment == null ? null : ((Map<String, Object>) ((Map<String, Object>) environment).get("Variables")).get("BACKBEAT_SITE");
        return name + (site == null ? "" : " of site " + site) + " (function " + stripHash(id) + ")";
    }

    @SuppressWarnings("unchecked")
    private static String roleId(Object arn) {
        return String.valueOf(((List<Object>) ((Map<String, Object>) arn).get("Fn::GetAtt")).get(0));
    }

    private static List<String> strings(Object value) {
        List<String> out = new ArrayList<>();
        if (value instanceof List<?> list) {
            list.forEach(v -> out.add(token(v)));
        } else {
            out.add(token(value));
        }
        return out;
    }

    /** A template value as text: strings as they are, intrinsic functions as short names. */
    @SuppressWarnings("unchecked")
    private static String token(Object value) {
        if (value instanceof String s) {
            return s;
        }
        Map<String, Object> function = (Map<String, Object>) value;
        if (function.containsKey("Ref")) {
            String ref = String.valueOf(function.get("Ref"));
            return switch (ref) {
                case "AWS::Partition" -> "aws";
                case "AWS::Region" -> "<region>";
                case "AWS::AccountId" -> "<account>";
                default -> "<" + stripHash(ref) + ">";
            };
        }
        if (function.containsKey("Fn::GetAtt")) {
            List<Object> args = (List<Object>) function.get("Fn::GetAtt");
            return "<" + stripHash(String.valueOf(args.get(0))) + "." + args.get(1) + ">";
        }
        if (function.containsKey("Fn::Join")) {
            List<Object> args = (List<Object>) function.get("Fn::Join");
            StringBuilder joined = new StringBuilder();
            for (Object part : (List<Object>) args.get(1)) {
                joined.append(token(part));
            }
            return joined.toString();
        }
        if (function.containsKey("Fn::Select")) {
            return "<cluster-uuid>"; // the only Select of the template: the cluster ARN's UUID, in topic and group ARNs
        }
        return String.valueOf(value);
    }

    /** A logical id without CDK's 8-character hash suffix. */
    private static String stripHash(String id) {
        return id.matches(".*[0-9A-F]{8}$") ? id.substring(0, id.length() - 8) : id;
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        return Files.exists(dir.resolve("docs")) ? dir : dir.getParent();
    }
}
