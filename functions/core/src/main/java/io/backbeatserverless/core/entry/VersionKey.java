package io.backbeatserverless.core.entry;

/**
 * CloudServer's version key: {@code <objectKey>\u0000<versionId>}. Master keys (the latest
 * version's alias) carry no separator.
 */
public record VersionKey(String objectKey, String versionId) {

    public static final char SEPARATOR = '\u0000';

    public VersionKey {
        if (objectKey == null || objectKey.isEmpty()) {
            throw new MalformedEntryException("version key has an empty object key");
        }
        if (versionId == null || versionId.isEmpty()) {
            throw new MalformedEntryException("version key of '" + objectKey + "' has no version id");
        }
    }

    public static boolean isVersionKey(String rawKey) {
        return rawKey != null && rawKey.indexOf(SEPARATOR) > 0;
    }

    public static VersionKey parse(String rawKey) {
        if (rawKey == null) {
            throw new MalformedEntryException("entry has no key");
        }
        int at = rawKey.lastIndexOf(SEPARATOR);
        if (at <= 0) {
            throw new MalformedEntryException("entry key '" + rawKey + "' is not a version key (<object>\\u0000<versionId>)");
        }
        return new VersionKey(rawKey.substring(0, at), rawKey.substring(at + 1));
    }

    public String encoded() {
        return objectKey + SEPARATOR + versionId;
    }
}
