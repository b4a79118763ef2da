package io.backbeatserverless.core.entry;

import io.backbeatserverless.core.metadata.ObjectMetadata;

import java.util.Objects;

/**
 * One object version to replicate, as Backbeat's populator writes it to {@code backbeat-replication}:
 * the bucket, the version key and the version's full metadata.
 *
 * @param type           Backbeat's operation word, {@code put} (new version or delete marker) or {@code del}
 * @param bucket         source bucket
 * @param versionKey     object key and source version id
 * @param metadata       the version's metadata, including {@code replicationInfo}
 * @param overheadFields Backbeat's timing fields; may be empty
 * @param forceCopy      ours: copy the version even if its replica seems to be at the site already (verify found
 *                       that replica different from the source); field {@code forceCopy}, absent when false
 * @param deferred       ours: put back on the topic by its site's replicator at the invocation's deadline, so behind
 *                       entries of its key that come after it (it goes before them: issue 28); field {@code deferred},
 *                       absent when false
 * @param autoRetries    ours: how many automatic retries of a transient failure queued this version for its site so far
 *                       (issue 31: its outcome carries the count back, for the next retry's time); field
 *                       {@code autoRetries}, absent when 0
 */
public record ReplicationEntry(String type, String bucket, VersionKey versionKey, ObjectMetadata metadata,
                               OverheadFields overheadFields, boolean forceCopy, boolean deferred, int autoRetries) {

    public ReplicationEntry(String type, String bucket, VersionKey versionKey, ObjectMetadata metadata,
                            OverheadFields overheadFields, boolean forceCopy, boolean deferred) {
        this(type, bucket, versionKey, metadata, overheadFields, forceCopy, deferred, 0);
    }

    public ReplicationEntry(String type, String bucket, VersionKey versionKey, ObjectMetadata metadata,
                            OverheadFields overheadFields, boolean forceCopy) {
        this(type, bucket, versionKey, metadata, overheadFields, forceCopy, false);
    }

    public static final String TYPE_PUT = "put";
    public static final String TYPE_DELETE = "del";

    public ReplicationEntry(String type, String bucket, VersionKey versionKey, ObjectMetadata metadata, OverheadFields overheadFields) {
        this(type, bucket, versionKey, metadata, overheadFields, false);
    }

    public ReplicationEntry {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(versionKey, "versionKey");
        Objects.requireNonNull(metadata, "metadata");
        if (bucket == null || bucket.isEmpty()) {
            throw new MalformedEntryException("entry for '" + versionKey.objectKey() + "' has no bucket");
        }
        overheadFields = overheadFields == null ? OverheadFields.NONE : overheadFields;
    }

    public String objectKey() {
        return versionKey.objectKey();
    }

    public String versionId() {
        return versionKey.versionId();
    }

    /** The Kafka message key: all versions of one object share it and therefore a partition. */
    public String messageKey() {
        return MessageKeys.forObject(bucket, objectKey());
    }

    /** The same entry, queued by automatic retry number {@code count} (issue 31). */
    public ReplicationEntry withAutoRetries(int count) {
        return new ReplicationEntry(type, bucket, versionKey, metadata, overheadFields, forceCopy, deferred, count);
    }

    public ReplicationEntry withMetadata(ObjectMetadata newMetadata) {
        return new ReplicationEntry(type, bucket, versionKey, newMetadata, overheadFields, forceCopy, deferred, autoRetries);
    }

    /** The same entry, put back by its site's replicator at the invocation's deadline. */
    public ReplicationEntry asDeferred() {
        return new ReplicationEntry(type, bucket, versionKey, metadata, overheadFields, forceCopy, true, autoRetries);
    }

    /** Backbeat's {@code overheadFields}: when the change was committed at the source and when the op happened. */
    public record OverheadFields(String commitTimestamp, String opTimestamp, String versionId) {
        public static final OverheadFields NONE = new OverheadFields(null, null, null);
    }
}
