package io.backbeatserverless.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.backbeatserverless.core.json.JsonDocuments;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of an ops API request's JSON body, each read the one way: of the type its route needs and within bounds,
 * or a 400 whose message names the field (with the entry's index in a list), says what it holds and what is allowed
 * (issue 32). Bounds keep a client's text out of places it cannot fit: a DynamoDB item holds 400 KB, an S3 key 1,024
 * bytes, a bucket's name 63 characters (255 where a legacy name is allowed).
 */
final class BodyFields {

    /** The longest an S3 key or prefix is (UTF-8 bytes): S3's limit. */
    static final int MAX_KEY_BYTES = 1024;
    /** The longest a bucket's, a site's or a version id's name is here: legacy bucket names went up to 255. */
    static final int MAX_NAME_LENGTH = 255;

    private final JsonNode node;
    private final String where;

    private BodyFields(JsonNode node, String where) {
        this.node = node;
        this.where = where;
    }

    /** The body's top level, which must be an object of {@code shape}; an empty body is an empty object. */
    static BodyFields object(String body, String shape) {
        JsonNode node = parse(body);
        if (node == null || node.isMissingNode()) {
            return new BodyFields(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(), "");
        }
        if (!node.isObject()) {
            throw OpsException.badBody("body must be a JSON object " + shape + ", not " + kind(node));
        }
        return new BodyFields(node, "");
    }

    /** The body's entries, which must be a list of objects of {@code shape}. */
    static List<BodyFields> list(String body, String shape) {
        JsonNode node = parse(body);
        if (node == null || !node.isArray()) {
            throw OpsException.badBody("body must be a JSON list of " + shape + ", not " + (node == null ? "nothing" : kind(node)));
        }
        List<BodyFields> entries = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isObject()) {
                throw OpsException.badBody("entry [" + i + "] must be a JSON object " + shape + ", not " + kind(node.get(i)));
            }
            entries.add(new BodyFields(node.get(i), "[" + i + "]."));
        }
        return entries;
    }

    private static JsonNode parse(String body) {
        try {
            return JsonDocuments.parse(body);
        } catch (JsonDocuments.MalformedJsonException e) {
            throw OpsException.badBody("body is " + e.getMessage());
        }
    }

    boolean has(String field) {
        return node.hasNonNull(field);
    }

    /** A text field of at most {@code maxChars} characters; null when absent (or JSON null) and not required. */
    String text(String field, int maxChars, boolean required) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            if (required) {
                throw invalid(field, "is required");
            }
            return null;
        }
        if (!value.isTextual()) {
            throw invalid(field, "must be a string, not " + kind(value));
        }
        if (required && value.asText().isEmpty()) {
            throw invalid(field, "must not be empty");
        }
        if (value.asText().length() > maxChars) {
            throw invalid(field, "is " + value.asText().length() + " characters long: at most " + maxChars);
        }
        return value.asText();
    }

    /** A name (a bucket's, a site's, a version id): text of at most {@value #MAX_NAME_LENGTH} characters. */
    String name(String field, boolean required) {
        return text(field, MAX_NAME_LENGTH, required);
    }

    /** An S3 key or prefix: text of at most {@value #MAX_KEY_BYTES} UTF-8 bytes; "" when absent and not required. */
    String key(String field, boolean required) {
        String key = text(field, MAX_KEY_BYTES, required);
        if (key != null && key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw invalid(field, "is longer than S3's " + MAX_KEY_BYTES + " bytes");
        }
        return key == null ? "" : key;
    }

    /** A list of names; empty when absent. */
    List<String> names(String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return List.of();
        }
        if (!value.isArray()) {
            throw invalid(field, "must be a list of names, not " + kind(value));
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            JsonNode name = value.get(i);
            if (!name.isTextual() || name.asText().isEmpty() || name.asText().length() > MAX_NAME_LENGTH) {
                throw invalid(field + "[" + i + "]", "must be a name (a string of 1 to " + MAX_NAME_LENGTH + " characters), not "
                        + kind(name));
            }
            names.add(name.asText());
        }
        return names;
    }

    boolean bool(String field, boolean absent) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return absent;
        }
        if (!value.isBoolean()) {
            throw invalid(field, "must be true or false, not " + kind(value));
        }
        return value.asBoolean();
    }

    /** A whole number from {@code min} to {@code max}; null when absent. */
    Long wholeNumber(String field, long min, long max) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < min || value.asLong() > max) {
            throw invalid(field, "must be a whole number from " + min + " to " + max + ", not " + kind(value));
        }
        return value.asLong();
    }

    /** A number from {@code min} to {@code max} ({@code minExclusive}: above it); null when absent. */
    Double number(String field, double min, boolean minExclusive, double max) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        double number = value.asDouble();
        if (!value.isNumber() || Double.isNaN(number) || (minExclusive ? number <= min : number < min) || number > max) {
            throw invalid(field, "must be a number " + (minExclusive ? "above " : "from ") + min + (minExclusive ? " and at most " : " to ")
                    + max + ", not " + kind(value));
        }
        return number;
    }

    private OpsException invalid(String field, String what) {
        return OpsException.badBody(where + field + " " + what);
    }

    /** A value as a client sent it, cut short enough to quote, or its kind when it is a list or an object. */
    private static String kind(JsonNode value) {
        if (value.isObject()) {
            return "an object";
        }
        if (value.isArray()) {
            return "a list";
        }
        String text = value.toString();
        return text.length() > 40 ? text.substring(0, 40) + "…" : text;
    }
}
