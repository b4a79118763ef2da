package io.backbeatserverless.adapters.config;

import java.net.URI;

/**
 * Where and how to reach an AWS-compatible service. {@code url} null means the AWS endpoint for the
 * region; credentials null mean the default provider chain (the function's or task's IAM role).
 */
public record Endpoint(String url, String region, String accessKeyId, String secretAccessKey) {

    public Endpoint {
        region = region == null || region.isBlank() ? "us-east-1" : region;
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
        return new Endpoint(u.getScheme() + "://" + u.getHost() + ":" + port, region, accessKeyId, secretAccessKey);
    }
}
