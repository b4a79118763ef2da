package io.backbeatserverless.core.status;

/** Names one object version of a source bucket. */
public record VersionRef(String bucket, String objectKey, String versionId) {
}
