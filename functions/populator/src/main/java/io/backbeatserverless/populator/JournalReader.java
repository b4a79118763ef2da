package io.backbeatserverless.populator;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backbeatserverless.core.entry.VersionKey;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a metadata journal's answer ({@code {"result":{"info":..,"log":[..]}}} from CloudServer,
 * {@code {"info":..,"log":[..]}} from bucketd) as a stream. A record's entries keep their metadata text
 * only where it can matter: version keys of object buckets. Jackson decodes a string only when asked,
 * so the values of master keys and bucket records, most of a journal, are skipped undecoded.
 */
final class JournalReader {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonFactory JSON = MAPPER.getFactory();

    /** One journal record: its bucket ({@code db}), timestamp and entries. */
    record LogRecord(String db, String timestamp, List<LogEntry> entries) {
    }

    /** One entry; {@code value} is null when it was not needed (not a version key, or a bucket record). */
    record LogEntry(String type, String key, String value) {
    }

    /** The answer: {@code info} as a tree (it is small) and the records in order. */
    record Answer(JsonNode info, List<LogRecord> records) {
    }

    private JournalReader() {
    }

    static boolean isBucketRecord(String db) {
        return db == null || db.isEmpty() || db.equals("__metastore") || db.equals("users..bucket") || db.startsWith("mpuShadowBucket");
    }

    static Answer read(InputStream in) throws IOException {
        try (JsonParser p = JSON.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("journal answer is not a JSON object");
            }
            return readObject(p);
        }
    }

    private static Answer readObject(JsonParser p) throws IOException {
        JsonNode info = MAPPER.createObjectNode();
        List<LogRecord> records = new ArrayList<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals("result") && value == JsonToken.START_OBJECT) {
                return readObject(p);
            } else if (field.equals("info")) {
                info = p.readValueAsTree();
            } else if (field.equals("log") && value == JsonToken.START_ARRAY) {
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    records.add(readRecord(p));
                }
            } else {
                p.skipChildren();
            }
        }
        return new Answer(info, records);
    }

    private static LogRecord readRecord(JsonParser p) throws IOException {
        String db = null;
        String timestamp = null;
        List<LogEntry> entries = new ArrayList<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "db" -> db = p.getText();
                case "timestamp" -> timestamp = p.getText();
                case "entries" -> {
                    if (value == JsonToken.START_ARRAY) {
                        while (p.nextToken() == JsonToken.START_OBJECT) {
                            entries.add(readEntry(p, db));
                        }
                    } else {
                        p.skipChildren();
                    }
                }
                default -> p.skipChildren();
            }
        }
        return new LogRecord(db, timestamp, entries);
    }

    private static LogEntry readEntry(JsonParser p, String db) throws IOException {
        String type = null;
        String key = null;
        String value = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken token = p.nextToken();
            switch (field) {
                case "type" -> type = p.getText();
                case "key" -> key = p.getText();
                case "value" -> {
                    // Decoded only when it may be a replicable version (db and key, when already read, say so).
                    boolean needed = (db == null || !isBucketRecord(db)) && (key == null || VersionKey.isVersionKey(key));
                    if (token == JsonToken.VALUE_STRING) {
                        value = needed ? p.getText() : null;
                    } else if (token == JsonToken.START_OBJECT) {
                        value = needed ? MAPPER.writeValueAsString(p.readValueAsTree()) : null;
                        if (!needed) {
                            p.skipChildren();
                        }
                    }
                }
                default -> p.skipChildren();
            }
        }
        return new LogEntry(type, key, value);
    }
}
