package io.backbeatserverless.core.entry;

import java.nio.charset.StandardCharsets;

/**
 * Kafka message keys for replication entries. Backbeat keys every entry by
 * {@code encodeURIComponent(bucket + "/" + key)} so that all versions of one object land on one
 * partition and are applied in order; we keep the exact same bytes so mixed deployments agree.
 */
public final class MessageKeys {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private MessageKeys() {
    }

    public static String forObject(String bucket, String objectKey) {
        return encodeUriComponent(bucket + "/" + objectKey);
    }

    /** JavaScript's {@code encodeURIComponent}: unlike {@link java.net.URLEncoder} it keeps {@code !'()*~} and never emits '+'. */
    public static String encodeUriComponent(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(utf8.length + 16);
        for (byte b : utf8) {
            int c = b & 0xff;
            if (isUnreserved(c)) {
                out.append((char) c);
            } else {
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0x0f]);
            }
        }
        return out.toString();
    }

    private static boolean isUnreserved(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' || c == '(' || c == ')';
    }
}
