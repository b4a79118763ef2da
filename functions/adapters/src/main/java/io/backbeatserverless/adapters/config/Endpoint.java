package io.backbeatserverless.adapters.config;

import java.net.URI;

/**
 * Where and how to reach an AWS-compatible service. {@code url} null means the AWS endpoint for the
 * region; credentials null mean the default provider chain (the function's or task's IAM role).
 *
 * @param credentialsSecret the name or ARN of a Secrets Manager secret holding {@code {"accessKeyId", "secretAccessKey"}},
 *                          read at run time (the deployed stack's way: no key in the configuration, so none in an
 *                          environment variable); the keys in clear are for the local stack
 */
public record Endpoint(String url, String region, String accessKeyId, String secretAccessKey, String credentialsSecret) {

    public Endpoint(String url, String region, String accessKeyId, String secretAccessKey) {
        this(url, region, accessKeyId, secretAccessKey, null);
    }

    public Endpoint {
        region = region == null || region.isBlank() ? "us-east-1" : region;
        if (credentialsSecret != null && accessKeyId != null) {
            throw new IllegalArgumentException("an endpoint takes its keys either from 'credentialsSecret' or in clear, not both");
        }
    }

    public boolean hasStaticCredentials() {
        return accessKeyId != null && !accessKeyId.isBlank();
    }

    public URI uri() {
        return url == null ? null : URI.create(url);
    }

    /** The port of a local endpoint, for the embedded stack that serves it. */
    public int port() {
        return uri().getPort();
    }

    public Endpoint withPort(int port) {
        URI u = uri();
        return new Endpoint(u.getScheme() + "://" + u.getHost() + ":" + port, region, accessKeyId, secretAccessKey, credentialsSecret);
    }
}
