package io.backbeatserverless.ops.cli;

import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which credentials the CLI signs with. Given on the command line, those; else, for an API in AWS, the AWS SDK's
 * default chain (environment with its session token, profiles, IAM Identity Center, ...), and a clear error when it
 * finds none; the local stack's well-known key only for an endpoint on this machine, never as a silent fallback
 * for a deployed API.
 */
final class CliCredentials {

    static final String LOCAL_ACCESS_KEY = "accessKey1";
    static final String LOCAL_SECRET_KEY = "verySecretKey1";
    private static final Pattern API_GATEWAY_HOST = Pattern.compile("^[a-z0-9]+\\.execute-api\\.([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?$");

    private CliCredentials() {
    }

    static AwsCredentialsIdentity resolve(URI endpoint, String accessKey, String secretKey, String sessionToken) {
        if (accessKey != null) {
            if (secretKey == null) {
                throw new IllegalArgumentException("--access-key needs --secret-key");
            }
            return sessionToken == null ? AwsCredentialsIdentity.create(accessKey, secretKey)
                    : AwsSessionCredentialsIdentity.create(accessKey, secretKey, sessionToken);
        }
        if (isLocal(endpoint) && System.getenv("AWS_ACCESS_KEY_ID") == null) {
            return AwsCredentialsIdentity.create(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY);
        }
        try (DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build()) {
            AwsCredentials found = chain.resolveCredentials();
            return found instanceof AwsSessionCredentials session
                    ? AwsSessionCredentialsIdentity.create(session.accessKeyId(), session.secretAccessKey(), session.sessionToken())
                    : AwsCredentialsIdentity.create(found.accessKeyId(), found.secretAccessKey());
        } catch (SdkClientException e) {
            throw new IllegalStateException("no AWS credentials to sign the call to " + endpoint + " with: set AWS_PROFILE (or run"
                    + " 'aws sso login'), or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or pass --access-key and"
                    + " --secret-key (the local stack's key is used only for an endpoint on this machine). " + e.getMessage(), e);
        }
    }

    /** The region given, else the one an API Gateway host names, else us-east-1 (the local stack's). */
    static String region(URI endpoint, String given) {
        if (given != null && !given.isBlank()) {
            return given;
        }
        Matcher m = API_GATEWAY_HOST.matcher(endpoint.getHost() == null ? "" : endpoint.getHost());
        return m.matches() ? m.group(1) : "us-east-1";
    }

    static boolean isLocal(URI endpoint) {
        try {
            return endpoint.getHost() != null && InetAddress.getByName(endpoint.getHost()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
