package io.backbeatserverless.core.entry;

/** An entry read from a topic that cannot be understood; the message names what was wrong. */
public class MalformedEntryException extends RuntimeException {
    public MalformedEntryException(String message) {
        super(message);
    }

    public MalformedEntryException(String message, Throwable cause) {
        super(message, cause);
    }
}
