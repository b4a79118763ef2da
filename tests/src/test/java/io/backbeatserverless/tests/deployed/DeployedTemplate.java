package io.backbeatserverless.tests.deployed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.backbeatserverless.infra.BackbeatStack;
import io.backbeatserverless.infra.DeploymentAssets;
import io.backbeatserverless.infra.DeploymentConfig;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.StackProps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CloudFormation template the CDK app synthesizes for a deployment, read as CloudFormation would deploy it: its
 * resources by type, and any part of it with its intrinsic functions ({@code Ref}, {@code Fn::GetAtt}, {@code Fn::Join},
 * {@code Fn::Select}, {@code Fn::Split}, {@code Fn::Sub}) resolved to the physical names and ARNs the emulator gave the
 * resources created for it ({@link #bind}). Nothing of the template is copied by hand: roles, policies, function
 * environments and triggers are all read from it.
 */
final class DeployedTemplate {

    static final String ACCOUNT = "123456789012";
    static final String REGION = "us-east-1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String stackName;
    private final JsonNode resources;
    private final Map<String, String> refs = new HashMap<>();
    private final Map<String, Map<String, String>> attributes = new HashMap<>();

    private DeployedTemplate(String stackName, JsonNode template) {
        this.stackName = stackName;
        this.resources = template.path("Resources");
    }

    /** Synthesizes the stack of {@code deployment} (with stand-in packages: the functions run from the class path). */
    static DeployedTemplate synthesize(String stackName, DeploymentConfig deployment, Path work) {
        try {
            Path out = Files.createDirectories(work.resolve("cdk.out"));
            App app = new App(AppProps.builder().outdir(out.toString()).build());
            new BackbeatStack(app, stackName, StackProps.builder().build(), deployment, DeploymentAssets.standIns(work));
            app.synth();
            return new DeployedTemplate(stackName, JSON.readTree(out.resolve(stackName + ".template.json").toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot synthesize the stack", e);
        }
    }

    String stackName() {
        return stackName;
    }

    /** The resources of {@code type}, by logical id, in the template's order. */
    Map<String, JsonNode> resourcesOfType(String type) {
        Map<String, JsonNode> found = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = resources.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> resource = it.next();
            if (resource.getValue().path("Type").asText().equals(type)) {
                found.put(resource.getKey(), resource.getValue());
            }
        }
        return found;
    }

    JsonNode resource(String logicalId) {
        JsonNode resource = resources.get(logicalId);
        if (resource == null) {
            throw new IllegalArgumentException("no resource " + logicalId + " in the template");
        }
        return resource;
    }

    /** The name CloudFormation would give a resource without an explicit name (its stack and logical id). */
    String physicalName(String logicalId) {
        String name = stackName + "-" + logicalId;
        return name.length() <= 64 ? name : name.substring(0, 64);
    }

    /** What {@code Ref} and {@code Fn::GetAtt} of a resource return, once the emulator holds it. */
    void bind(String logicalId, String ref, Map<String, String> attributesByName) {
        refs.put(logicalId, ref);
        attributes.put(logicalId, new HashMap<>(attributesByName));
    }

    boolean isBound(String logicalId) {
        return refs.containsKey(logicalId);
    }

    /** {@code node} with every intrinsic function resolved; a resource not bound yet fails, naming it. */
    JsonNode resolve(JsonNode node) {
        return resolve(node, true);
    }

    /**
     * {@code node} resolved; a resource not bound (one the suite does not create, such as a log group or a KMS key)
     * becomes {@code arn:aws:unbound:…:<id>/<attribute>}, which matches nothing a function touches.
     */
    JsonNode resolveLeniently(JsonNode node) {
        return resolve(node, false);
    }

    String resolveText(JsonNode node) {
        JsonNode resolved = resolve(node);
        if (!resolved.isValueNode()) {
            throw new IllegalArgumentException("not a scalar: " + resolved);
        }
        return resolved.asText();
    }

    private JsonNode resolve(JsonNode node, boolean strict) {
        if (node.isObject() && node.size() == 1) {
            String function = node.fieldNames().next();
            JsonNode argument = node.get(function);
            switch (function) {
                case "Ref" -> {
                    return TextNode.valueOf(ref(argument.asText(), strict));
                }
                case "Fn::GetAtt" -> {
                    return TextNode.valueOf(attribute(argument.get(0).asText(), argument.get(1).asText(), strict));
                }
                case "Fn::Join" -> {
                    List<String> parts = new ArrayList<>();
                    resolve(argument.get(1), strict).forEach(part -> parts.add(part.asText()));
                    return TextNode.valueOf(String.join(argument.get(0).asText(), parts));
                }
                case "Fn::Select" -> {
                    return resolve(argument.get(1), strict).get(resolve(argument.get(0), strict).asInt());
                }
                case "Fn::Split" -> {
                    ArrayNode parts = JsonNodeFactory.instance.arrayNode();
                    for (String part : resolve(argument.get(1), strict).asText().split(java.util.regex.Pattern.quote(argument.get(0).asText()), -1)) {
                        parts.add(part);
                    }
                    return parts;
                }
                case "Fn::Sub" -> {
                    return TextNode.valueOf(substitute(argument.isArray() ? argument.get(0).asText() : argument.asText(), strict));
                }
                default -> {
                    if (function.startsWith("Fn::")) {
                        throw new IllegalArgumentException("the suite does not resolve " + function + ": " + node);
                    }
                }
            }
        }
        if (node.isObject()) {
            ObjectNode copy = JSON.createObjectNode();
            node.fields().forEachRemaining(field -> copy.set(field.getKey(), resolve(field.getValue(), strict)));
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = JSON.createArrayNode();
            node.forEach(element -> copy.add(resolve(element, strict)));
            return copy;
        }
        return node;
    }

    private String substitute(String text, boolean strict) {
        var matcher = java.util.regex.Pattern.compile("\\$\\{([^}]+)}").matcher(text);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String name = matcher.group(1);
            int dot = name.indexOf('.');
            String value = dot < 0 ? ref(name, strict) : attribute(name.substring(0, dot), name.substring(dot + 1), strict);
            matcher.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(value));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    private String ref(String name, boolean strict) {
        switch (name) {
            case "AWS::Region":
                return REGION;
            case "AWS::AccountId":
                return ACCOUNT;
            case "AWS::Partition":
                return "aws";
            case "AWS::URLSuffix":
                return "amazonaws.com";
            case "AWS::StackName":
                return stackName;
            default:
                break;
        }
        String value = refs.get(name);
        if (value == null) {
            if (strict) {
                throw new IllegalStateException("the template refers to " + name + ", which the suite has not created");
            }
            return "arn:aws:unbound:" + REGION + ":" + ACCOUNT + ":" + name;
        }
        return value;
    }

    private String attribute(String logicalId, String name, boolean strict) {
        String value = attributes.getOrDefault(logicalId, Map.of()).get(name);
        if (value == null) {
            if (strict) {
                throw new IllegalStateException("the template refers to " + logicalId + "." + name + ", which the suite has not created");
            }
            return "arn:aws:unbound:" + REGION + ":" + ACCOUNT + ":" + logicalId + "/" + name;
        }
        return value;
    }
}
