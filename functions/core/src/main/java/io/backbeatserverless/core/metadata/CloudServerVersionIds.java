package io.backbeatserverless.core.metadata;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * CloudServer's two spellings of a version id: the internal one its metadata and record log carry
 * ({@code 98204407893972999999RG001  0}) and the external one its S3 API takes and returns, the hex
 * encoding of the internal bytes ({@code 3938323034...}).
 */
public final class CloudServerVersionIds {

    private CloudServerVersionIds() {
    }

    /**
     * The version a bucket held before versioning was enabled is {@code null} in both spellings (S3's name for it, which
     * CloudServer's listing returns too); any other id is hex-encoded.
     */
    public static final String NULL_VERSION = "null";

    public static String toExternal(String internal) {
        return NULL_VERSION.equals(internal) ? internal : HexFormat.of().formatHex(internal.getBytes(StandardCharsets.UTF_8));
    }

    public static String toInternal(String external) {
        return NULL_VERSION.equals(external) ? external : new String(HexFormat.of().parseHex(external), StandardCharsets.UTF_8);
    }
}
