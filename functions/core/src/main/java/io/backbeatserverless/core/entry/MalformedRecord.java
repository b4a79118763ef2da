package io.backbeatserverless.core.entry;

/**
 * A replication-topic record a replicator could not decode, passed on through the status topic so the
 * status processor keeps it as a failed entry: visible with its reason and position, never a silent
 * drop, and never blocking its partition.
 *
 * @param position {@code <topic>-<partition>@<offset>}
 * @param raw      the record's value as received (UTF-8, or base64 when it is not text)
 */
public record MalformedRecord(String site, String position, String reason, String raw) {

    /** The bucket name failed entries of undecodable records are listed under. */
    public static final String FAILED_ENTRY_BUCKET = "(malformed)";
}
