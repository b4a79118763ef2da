package io.backbeatserverless.benchmarks;

import io.backbeatserverless.adapters.aws.AwsClients;
import io.backbeatserverless.adapters.config.SiteConfig;
import io.backbeatserverless.adapters.dynamodb.DynamoDbReplicationStatusStore;
import io.backbeatserverless.core.metadata.ReplicaMarkers;
import io.backbeatserverless.core.status.VersionStatus;
import io.backbeatserverless.localstack.EmbeddedStack;
import software.amazon.awssdk.services.s3.S3Client;
import io.backbeatserverless.adapters.aws.VersionListing;
import io.backbeatserverless.core.versions.ListedVersion;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One key's whole story after a run, for a finding to be traced once the stack is gone: the key's history at the source
 * and at each site (newest first, as the listings give it; a replica with the source version it says it is of), and what
 * the status table recorded for each version at each site.
 */
final class KeyEvidence {

    private KeyEvidence() {
    }

    static String of(EmbeddedStack stack, S3Client source, String bucket, String key, List<String> sites) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%n== evidence of %s/%s ==%n", bucket, key));
        try {
            Map<String, VersionStatus> statuses;
            try (var dynamo = AwsClients.dynamoDb(stack.config().dynamodb().endpoint())) {
                statuses = new DynamoDbReplicationStatusStore(dynamo, stack.config().dynamodb().tables().status(), Clock.systemUTC())
                        .findVersions(bucket, key).stream().collect(Collectors.toMap(VersionStatus::versionId, Function.identity(), (a, b) -> a));
            }
            out.append("source (newest first):\n");
            for (String[] entry : history(source, bucket, key, null)) {
                VersionStatus status = statuses.get(entry[0]);
                out.append(String.format("  %s %-6s %s %s  status %s%n", entry[0], entry[1], entry[2], entry[3],
                        status == null ? "none" : status.sites()));
            }
            for (String siteName : sites) {
                SiteConfig site = stack.config().requireSite(siteName);
                try (S3Client destination = AwsClients.s3(site.endpoint(), 2)) {
                    out.append(String.format("site %s (newest first):%n", siteName));
                    String siteBucket = site.bucket();
                    for (String[] entry : history(destination, siteBucket, site.destinationKey(bucket, key), source)) {
                        out.append(String.format("  %s %-6s %s %s%n", entry[0], entry[1], entry[2], entry[3]));
                    }
                }
            }
        } catch (RuntimeException e) {
            out.append("  (could not be read: ").append(e).append(")\n");
        }
        return out.toString();
    }

    /**
     * The key's entries newest first, merged as verify merges them ({@code VersionListing}): version id, "marker" or
     * "object", last-modified, and the ETag (at a site, with the source version its replica says it is of, read by a HEAD).
     */
    private static List<String[]> history(S3Client s3, String bucket, String key, S3Client replicasOf) {
        List<String[]> entries = new ArrayList<>();
        for (var listed : new VersionListing(s3).range(bucket, key, null, key, 1000)) {
            if (!listed.key().equals(key)) {
                continue;
            }
            for (ListedVersion v : listed.versions().reversed()) {
                String replicaOf = v.deleteMarker() || replicasOf == null ? "" : " replica of " + s3.headObject(r -> r.bucket(bucket).key(key)
                        .versionId(v.versionId())).metadata().get(ReplicaMarkers.SOURCE_VERSION);
                entries.add(new String[] {v.versionId(), v.deleteMarker() ? "marker" : "object", String.valueOf(v.lastModified()),
                        (v.deleteMarker() ? "" : v.eTag()) + replicaOf});
            }
        }
        return entries;
    }
}
