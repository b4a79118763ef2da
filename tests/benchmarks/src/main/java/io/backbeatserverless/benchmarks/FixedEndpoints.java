package io.backbeatserverless.benchmarks;

import software.amazon.awssdk.awscore.endpoints.AwsEndpointAttribute;
import software.amazon.awssdk.awscore.endpoints.authscheme.SigV4AuthScheme;
import software.amazon.awssdk.endpoints.Endpoint;
import software.amazon.awssdk.services.dynamodb.endpoints.DynamoDbEndpointProvider;
import software.amazon.awssdk.services.s3.endpoints.S3EndpointProvider;

import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A lever measured and not kept ({@link SdkLeversBenchmark}): endpoint providers for a configured endpoint URL (an
 * S3-compatible server, a local DynamoDB) that give the answer the SDK's endpoint rules give for such a URL with
 * path-style addressing, without evaluating the rules. The SDK (2.57) caches the rules' answers: it saved nothing
 * measurable per request.
 */
final class FixedEndpoints {

    private FixedEndpoints() {
    }

    /** {@code <url>/<bucket>} (path style), signed as S3 in the request's region, the rules' own answer for a custom endpoint. */
    static S3EndpointProvider s3(URI url) {
        String root = withoutTrailingSlash(url);
        return params -> {
            String bucket = params.bucket();
            Endpoint endpoint = Endpoint.builder()
                    .url(URI.create(bucket == null || bucket.isEmpty() ? root : root + "/" + bucket))
                    .putAttribute(AwsEndpointAttribute.AUTH_SCHEMES, List.of(SigV4AuthScheme.builder().signingName("s3")
                            .signingRegion(params.region() == null ? null : params.region().id()).disableDoubleEncoding(true).build()))
                    .build();
            return CompletableFuture.completedFuture(endpoint);
        };
    }

    static DynamoDbEndpointProvider dynamoDb(URI url) {
        CompletableFuture<Endpoint> endpoint = CompletableFuture.completedFuture(Endpoint.builder().url(URI.create(withoutTrailingSlash(url))).build());
        return params -> endpoint;
    }

    private static String withoutTrailingSlash(URI url) {
        String text = url.toString();
        return text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
    }
}
