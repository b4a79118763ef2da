package io.backbeatserverless.replicator;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkServiceException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Set;

/**
 * The one place that decides what a failure means, by walking the cause chain: retry it (throttling,
 * 5xx, timeouts, connection resets, a checksum mismatch), give up at once (access denied, no such
 * destination bucket, invalid request, a source that refuses us, a site whose ETags can never match), or skip
 * the version because the source no longer has it (404).
 */
public final class ReplicationErrors {

    public enum Kind { RETRYABLE, PERMANENT, SOURCE_GONE }

    private static final Set<Integer> RETRYABLE_STATUS = Set.of(408, 429, 500, 502, 503, 504);
    private static final Set<String> RETRYABLE_CODES = Set.of("SlowDown", "Throttling", "ThrottlingException",
            "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable", "TooManyRequestsException");

    private ReplicationErrors() {
    }

    /**
     * The {@link io.backbeatserverless.core.retry.Retrier.SetAside} in {@code failure}'s cause chain (a retry not waited
     * for: the version is put aside for later, not failed), or null.
     */
    public static io.backbeatserverless.core.retry.Retrier.SetAside setAside(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof io.backbeatserverless.core.retry.Retrier.SetAside setAside) {
                return setAside;
            }
        }
        return null;
    }

    public static Kind classify(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SiteRefusal) {
                return Kind.PERMANENT;
            }
            if (t instanceof SourceReadException) {
                // Only a version that is really gone may be skipped. A source that refuses us (403: wrong or expired
                // credentials, a denied role, clock skew) is a failure with its reason, for an operator to fix and retry.
                if (t.getCause() instanceof SdkServiceException s && s.statusCode() == 404) {
                    return Kind.SOURCE_GONE;
                }
                return t.getCause() == null ? Kind.PERMANENT : classify(t.getCause());
            }
            if (t instanceof EtagNotMd5Exception) {
                return Kind.PERMANENT;
            }
            if (t instanceof IntegrityException) {
                return Kind.RETRYABLE;
            }
            if (t instanceof SdkServiceException service) {
                return classifyService(service);
            }
            if (t instanceof ApiCallTimeoutException || t instanceof ApiCallAttemptTimeoutException
                    || t instanceof IOException || t instanceof UncheckedIOException) {
                return Kind.RETRYABLE;
            }
        }
        return Kind.PERMANENT;
    }

    private static Kind classifyService(SdkServiceException service) {
        if (service.isThrottlingException() || RETRYABLE_STATUS.contains(service.statusCode())) {
            return Kind.RETRYABLE;
        }
        // An error answer to a HEAD has no body, so no code (a 403 to a HEAD at a site that refuses us, say).
        if (service instanceof AwsServiceException aws && aws.awsErrorDetails() != null && aws.awsErrorDetails().errorCode() != null
                && RETRYABLE_CODES.contains(aws.awsErrorDetails().errorCode())) {
            return Kind.RETRYABLE;
        }
        return Kind.PERMANENT;
    }

    /**
     * Whether a request that failed this way may have been done all the same: no answer came (a reset or a timeout
     * after it was sent), as opposed to an answer that refused it. A retry of such a request must first look whether
     * its work is there: on a versioned bucket a PUT or a DELETE done twice leaves two versions or two markers.
     */
    public static boolean mayHaveBeenDone(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SdkServiceException) {
                return false;
            }
        }
        return true;
    }

    public static boolean isRetryable(Throwable failure) {
        return classify(failure) == Kind.RETRYABLE;
    }

    /**
     * Whether {@code failure} is our own bug rather than an answer of a store or the network: nothing in its cause chain
     * is an SDK exception, an I/O error, or one of ours. Such a failure is logged with its stack trace, for a developer.
     */
    public static boolean isInternal(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof software.amazon.awssdk.core.exception.SdkException || t instanceof IOException
                    || t instanceof UncheckedIOException || t instanceof IntegrityException || t instanceof SourceReadException) {
                return false;
            }
        }
        return true;
    }

    /** A one-line reason an operator can act on: the service's error code and message, or the exception. */
    public static String describe(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SiteRefusal) {
                return t.getMessage();
            }
            if (t instanceof AwsServiceException aws && aws.awsErrorDetails() != null) {
                String side = hasSourceCause(failure) ? "source: " : "";
                // An error answer to a HEAD has no body, so no code or message: its status says what there is to say.
                String code = aws.awsErrorDetails().errorCode();
                String message = aws.awsErrorDetails().errorMessage();
                return side + (code != null ? code : statusText(aws)) + " (HTTP " + aws.statusCode() + "): "
                        + (message != null ? message : "no error body (an answer to a HEAD has none)");
            }
            if (t instanceof IntegrityException) {
                return t.getMessage();
            }
        }
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return failure == root ? failure.toString() : failure.getClass().getSimpleName() + ": " + failure.getMessage()
                + " (cause: " + root + ")";
    }

    private static String statusText(AwsServiceException aws) {
        return java.util.Optional.ofNullable(aws.awsErrorDetails().sdkHttpResponse()).flatMap(r -> r.statusText())
                .orElse(switch (aws.statusCode()) {
                    case 403 -> "Forbidden";
                    case 404 -> "Not Found";
                    case 500 -> "Internal Server Error";
                    case 503 -> "Service Unavailable";
                    default -> "HTTP error";
                });
    }

    private static boolean hasSourceCause(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SourceReadException) {
                return true;
            }
        }
        return false;
    }

    /** A request to the source failed: the cause says whether the version is gone or the source hiccuped. */
    public static final class SourceReadException extends RuntimeException {
        public SourceReadException(String what, Throwable cause) {
            super(what + ": " + cause.getMessage(), cause);
        }
    }

    /**
     * The site refuses what the version needs, for a reason no retry changes until an operator fixes the site (a bucket
     * without the Object Lock the version's lock needs): permanent, and its message is the reason recorded.
     */
    public static final class SiteRefusal extends RuntimeException {
        public SiteRefusal(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The bytes the site stored are not the bytes we sent (or the source's ETag disagrees): retried. */
    public static class IntegrityException extends RuntimeException {
        public IntegrityException(String message) {
            super(message);
        }
    }

    /**
     * The site answered the same ETag for the same bytes twice, and it is not their MD5: its ETags are not content
     * MD5s (SSE-KMS does this), so no retry can succeed. Permanent, and the message says what to change.
     */
    public static final class EtagNotMd5Exception extends IntegrityException {
        public EtagNotMd5Exception(String message) {
            super(message);
        }
    }
}
