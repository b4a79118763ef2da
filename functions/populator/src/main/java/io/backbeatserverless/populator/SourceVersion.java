package io.backbeatserverless.populator;

import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.VersionRef;

/**
 * One object version a feed found, with its metadata in CloudServer's format.
 *
 * @param sequence        its position in the feed's log (-1 for feeds without one)
 * @param commitTimestamp when the source committed it (null if unknown)
 */
public record SourceVersion(String bucket, ObjectMetadata metadata, long sequence, String commitTimestamp) {

    public SourceVersion(String bucket, ObjectMetadata metadata) {
        this(bucket, metadata, -1, null);
    }

    public VersionRef ref() {
        return new VersionRef(bucket, metadata.objectKey(), metadata.versionId());
    }
}
