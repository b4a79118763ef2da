package io.backbeatserverless.populator;

import io.backbeatserverless.core.metadata.ObjectMetadata;
import io.backbeatserverless.core.status.VersionRef;

/** One object version a feed found, with its metadata in CloudServer's format. */
public record SourceVersion(String bucket, ObjectMetadata metadata) {

    public VersionRef ref() {
        return new VersionRef(bucket, metadata.objectKey(), metadata.versionId());
    }
}
