package io.backbeatserverless.adapters.logging;

import org.slf4j.MDC;

import java.util.HashMap;
import java.util.Map;

/**
 * The version a log line is about, as keys of every line logged while it is open (SLF4J's MDC: the JSON layout of the
 * deployed jars writes them as fields): {@code bucket}, {@code key}, {@code versionId}, {@code site} when one is
 * concerned, and {@code correlation_id}, the same for one version at every stage (populator, replicator, status), so
 * CloudWatch Logs Insights follows a version with {@code filter correlation_id = "<bucket>/<key>/<versionId>"}.
 * Closing it puts back the keys the thread had before.
 */
public final class VersionLogContext implements AutoCloseable {

    private final Map<String, String> before;

    private VersionLogContext(Map<String, String> before) {
        this.before = before;
    }

    /** The calling thread's keys (the invocation's, which Powertools sets), to carry onto the threads a batch runs on. */
    public static Map<String, String> invocation() {
        Map<String, String> keys = MDC.getCopyOfContextMap();
        return keys == null ? Map.of() : keys;
    }

    /** @param site null where no site is concerned (the populator) */
    public static VersionLogContext of(String bucket, String key, String versionId, String site) {
        return of(Map.of(), bucket, key, versionId, site);
    }

    /** @param invocation the invocation's keys ({@link #invocation()} on the handler's thread), for a worker thread */
    public static VersionLogContext of(Map<String, String> invocation, String bucket, String key, String versionId, String site) {
        Map<String, String> before = MDC.getCopyOfContextMap();
        Map<String, String> keys = new HashMap<>(before == null ? Map.of() : before);
        keys.putAll(invocation);
        keys.put("bucket", bucket);
        keys.put("key", key);
        keys.put("versionId", versionId);
        if (site != null) {
            keys.put("site", site);
        }
        keys.put("correlation_id", correlationId(bucket, key, versionId));
        MDC.setContextMap(keys);
        return new VersionLogContext(before);
    }

    public static String correlationId(String bucket, String key, String versionId) {
        return bucket + "/" + key + "/" + versionId;
    }

    @Override
    public void close() {
        if (before == null) {
            MDC.clear();
        } else {
            MDC.setContextMap(before);
        }
    }
}
