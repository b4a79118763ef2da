package io.backbeatserverless.adapters.logging;

import org.slf4j.MDC;

/**
 * The version a log line is about, as keys of every line logged while it is open (SLF4J's MDC: the JSON layout of the
 * deployed jars writes them as fields): {@code bucket}, {@code key}, {@code versionId}, {@code site} when one is
 * concerned, and {@code correlation_id}, the same for one version at every stage (populator, replicator, status), so
 * CloudWatch Logs Insights follows a version with {@code filter correlation_id = "<bucket>/<key>/<versionId>"}.
 */
public final class VersionLogContext implements AutoCloseable {

    private static final String[] KEYS = {"bucket", "key", "versionId", "site", "correlation_id"};

    private VersionLogContext() {
    }

    /** @param site null where no site is concerned (the populator) */
    public static VersionLogContext of(String bucket, String key, String versionId, String site) {
        MDC.put("bucket", bucket);
        MDC.put("key", key);
        MDC.put("versionId", versionId);
        if (site != null) {
            MDC.put("site", site);
        }
        MDC.put("correlation_id", correlationId(bucket, key, versionId));
        return new VersionLogContext();
    }

    public static String correlationId(String bucket, String key, String versionId) {
        return bucket + "/" + key + "/" + versionId;
    }

    @Override
    public void close() {
        for (String key : KEYS) {
            MDC.remove(key);
        }
    }
}
