package io.backbeatserverless.adapters.aws;

import io.backbeatserverless.adapters.config.Endpoint;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.net.URI;

/**
 * SQS clients for the S3-events feed's queue (the populator reads it, the ops API redrives its dead letters). Apart from
 * {@link AwsClients} because only those two functions carry the SQS SDK.
 */
public final class SqsQueues {

    private SqsQueues() {
    }

    /**
     * An SQS client for a queue URL: AWS for amazonaws.com queues, else the URL's own server (ElasticMQ, LocalStack);
     * region and credentials from {@code endpoint} (the source's).
     */
    public static SqsClient client(String queueUrl, Endpoint endpoint) {
        URI queue = URI.create(queueUrl);
        var builder = SqsClient.builder()
                .region(Region.of(endpoint.region()))
                .credentialsProvider(AwsClients.credentials(endpoint))
                .httpClientBuilder(ApacheHttpClient.builder());
        if (!queue.getHost().endsWith("amazonaws.com")) {
            builder.endpointOverride(URI.create(queue.getScheme() + "://" + queue.getAuthority()));
        }
        return builder.build();
    }
}
