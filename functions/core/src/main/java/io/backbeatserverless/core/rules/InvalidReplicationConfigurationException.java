package io.backbeatserverless.core.rules;

/** A replication configuration that cannot be used; the message names the offending field. */
public class InvalidReplicationConfigurationException extends RuntimeException {
    public InvalidReplicationConfigurationException(String message) {
        super(message);
    }

    public InvalidReplicationConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
