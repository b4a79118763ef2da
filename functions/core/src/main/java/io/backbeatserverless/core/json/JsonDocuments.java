package io.backbeatserverless.core.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/**
 * A JSON document a person sent (an ops API body, a bucket's replication rules), read the one way: when it is not JSON,
 * the error says where (the JSON pointer of the value being read, its line and column) and why, in words for that person:
 * Jackson's own message without its location dump and its internals (issue 32: no exception text in a response).
 */
public final class JsonDocuments {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int POINTER_SHOWN = 120;

    private JsonDocuments() {
    }

    /** The document's tree; null for an empty text. */
    public static JsonNode parse(String text) {
        JsonParser parser = null;
        try {
            parser = MAPPER.createParser(text == null ? "" : text);
            return MAPPER.readTree(parser);
        } catch (JsonProcessingException e) {
            throw new MalformedJsonException(describe(e, parser));
        } catch (IOException e) {
            throw new MalformedJsonException("not JSON: " + e.getMessage());
        } finally {
            if (parser != null) {
                try {
                    parser.close();
                } catch (IOException ignored) {
                    // reading a string: nothing to release
                }
            }
        }
    }

    private static String describe(JsonProcessingException e, JsonParser parser) {
        String why = e instanceof StreamConstraintsException
                ? "nested deeper, or with a number or a string longer, than a JSON document may be here"
                : e.getOriginalMessage().lines().findFirst().orElse("unreadable");
        StringBuilder where = new StringBuilder();
        if (parser != null) {
            String pointer = parser.getParsingContext().pathAsPointer().toString();
            if (!pointer.isEmpty()) {
                where.append("at ").append(pointer.length() > POINTER_SHOWN ? pointer.substring(0, POINTER_SHOWN) + "…" : pointer).append(", ");
            }
        }
        if (e.getLocation() != null) {
            where.append("line ").append(e.getLocation().getLineNr()).append(", column ").append(e.getLocation().getColumnNr());
        }
        return "not JSON" + (where.isEmpty() ? "" : " (" + where + ")") + ": " + why;
    }

    /** A document that is not JSON; its message starts "not JSON". */
    public static final class MalformedJsonException extends IllegalArgumentException {
        MalformedJsonException(String message) {
            super(message);
        }
    }
}
