package io.backbeatserverless.ops;

/** An ops API error in Backbeat's shape: HTTP status, {@code code} and {@code message}. */
public final class OpsException extends RuntimeException {

    private final int status;
    private final String code;

    public OpsException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public static OpsException notFound(String message) {
        return new OpsException(404, "RouteNotFound", message);
    }

    public static OpsException badQuery(String message) {
        return new OpsException(400, "InvalidQueryParameter", message);
    }

    public static OpsException badPath(String message) {
        return new OpsException(400, "InvalidURI", message);
    }

    public static OpsException badBody(String message) {
        return new OpsException(400, "MalformedPOSTRequest", message);
    }
}
