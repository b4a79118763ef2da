package io.backbeatserverless.core.metadata;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The times entries, statuses and replica metadata carry as text (ISO-8601, as S3 and CloudServer write them). A time
 * absent or unreadable reads as null: whoever compares or subtracts times then says it cannot tell, rather than fail
 * on one malformed field.
 */
public final class Timestamps {

    private Timestamps() {
    }

    public static Instant parseOrNull(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
