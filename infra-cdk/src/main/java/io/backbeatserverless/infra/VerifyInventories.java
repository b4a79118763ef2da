package io.backbeatserverless.infra;

import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import software.amazon.awscdk.Aws;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.customresources.AwsCustomResource;
import software.amazon.awscdk.customresources.AwsCustomResourcePolicy;
import software.amazon.awscdk.customresources.AwsSdkCall;
import software.amazon.awscdk.customresources.PhysicalResourceId;
import software.amazon.awscdk.services.iam.Effect;
import software.amazon.awscdk.services.iam.IGrantable;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.s3.BlockPublicAccess;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.s3.BucketEncryption;
import software.amazon.awscdk.services.s3.LifecycleRule;
import software.constructs.Construct;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * S3 Inventory reports for verify (issue 29: buckets too big to list are compared report against report): a bucket the
 * stack owns receives them, and each source bucket and each same-Region site bucket gets an inventory configuration
 * {@value #CONFIGURATION_ID} (CSV, all versions, with Size, LastModifiedDate and ETag, which verify compares). A
 * configuration is added by its id (PutBucketInventoryConfiguration leaves a bucket's other configurations as they are)
 * and removed with the stack. S3 delivers a report only to a bucket in the Region of the bucket it lists (Amazon S3 API
 * Reference, PutBucketInventoryConfiguration), so a site bucket elsewhere is given none here (docs/deploy.md says how).
 * Verify keeps the shards of a run beside the reports, under {@code inventories/backbeat-verify/}, removed as it goes and
 * by a lifecycle rule after a run that was cancelled.
 */
final class VerifyInventories extends Construct {

    static final String CONFIGURATION_ID = "backbeat";
    static final String PREFIX = "inventories";

    private final Bucket bucket;
    private final List<String> siteNames = new ArrayList<>();

    VerifyInventories(Construct scope, String id, DeploymentConfig deployment, DeploymentConfig.Inventory inventory) {
        super(scope, id);
        bucket = Bucket.Builder.create(this, "Reports")
                .encryption(BucketEncryption.S3_MANAGED)
                .enforceSsl(true)
                .blockPublicAccess(BlockPublicAccess.BLOCK_ALL)
                .lifecycleRules(List.of(
                        LifecycleRule.builder().id("expire-reports").prefix(PREFIX + "/").expiration(Duration.days(inventory.keepDays())).build(),
                        LifecycleRule.builder().id("expire-verify-shards").prefix(PREFIX + "/backbeat-verify/").expiration(Duration.days(2)).build()))
                // Reports expire on their own; a stack deleted leaves the bucket and what is left in it for its lifecycle.
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        NagSuppressions.addResourceSuppressions(bucket, List.of(NagPackSuppression.builder().id("AwsSolutions-S1")
                .reason("Only S3 Inventory writes reports here and only the verifier reads them; they are copies of listings, "
                        + "renewed every period, and expire.")
                .build()));
        Map<String, String> inventoried = new LinkedHashMap<>();
        deployment.source().buckets().forEach(b -> inventoried.put(b, "source"));
        for (DeploymentConfig.Site site : deployment.sites()) {
            if (site.usesExecutionRole() && site.bucket() != null
                    && (site.region() == null || java.util.Objects.equals(site.region(), deployment.source().region()))) {
                inventoried.put(site.bucket(), site.name());
                siteNames.add(site.name());
            }
        }
        // S3 writes the reports as itself, for these buckets of this account only (User Guide, example-bucket-policies:
        // "Grant permissions for S3 Inventory and S3 analytics").
        bucket.addToResourcePolicy(PolicyStatement.Builder.create()
                .effect(Effect.ALLOW)
                .principals(List.of(new ServicePrincipal("s3.amazonaws.com")))
                .actions(List.of("s3:PutObject"))
                .resources(List.of(bucket.arnForObjects(PREFIX + "/*")))
                .conditions(Map.of(
                        "StringEquals", Map.of("aws:SourceAccount", Aws.ACCOUNT_ID, "s3:x-amz-acl", "bucket-owner-full-control"),
                        "ArnLike", Map.of("aws:SourceArn", inventoried.keySet().stream().map(b -> "arn:" + Aws.PARTITION + ":s3:::" + b).toList())))
                .build());
        int n = 0;
        for (Map.Entry<String, String> listed : inventoried.entrySet()) {
            configureInventory("Inventory" + (n++), listed.getKey(), inventory.frequency());
        }
    }

    /** The bucket's inventory configuration {@value #CONFIGURATION_ID}, put at create and update, removed at delete. */
    private void configureInventory(String id, String inventoried, String frequency) {
        Map<String, Object> configuration = new LinkedHashMap<>();
        configuration.put("Id", CONFIGURATION_ID);
        configuration.put("IsEnabled", true);
        configuration.put("IncludedObjectVersions", "All");
        configuration.put("OptionalFields", List.of("Size", "LastModifiedDate", "ETag"));
        configuration.put("Schedule", Map.of("Frequency", frequency));
        configuration.put("Destination", Map.of("S3BucketDestination", Map.of("Bucket", bucket.getBucketArn(), "Format", "CSV",
                "Prefix", PREFIX, "AccountId", Aws.ACCOUNT_ID)));
        AwsSdkCall put = AwsSdkCall.builder().service("S3").action("putBucketInventoryConfiguration")
                .parameters(Map.of("Bucket", inventoried, "Id", CONFIGURATION_ID, "InventoryConfiguration", configuration))
                .physicalResourceId(PhysicalResourceId.of(inventoried + "/" + CONFIGURATION_ID)).build();
        AwsSdkCall delete = AwsSdkCall.builder().service("S3").action("deleteBucketInventoryConfiguration")
                .parameters(Map.of("Bucket", inventoried, "Id", CONFIGURATION_ID)).build();
        AwsCustomResource.Builder.create(this, id)
                .onCreate(put).onUpdate(put).onDelete(delete)
                // PutBucketInventoryConfiguration and DeleteBucketInventoryConfiguration are both s3:PutInventoryConfiguration.
                .policy(AwsCustomResourcePolicy.fromStatements(List.of(PolicyStatement.Builder.create()
                        .actions(List.of("s3:PutInventoryConfiguration"))
                        .resources(List.of("arn:" + Aws.PARTITION + ":s3:::" + inventoried)).build())))
                .installLatestAwsSdk(false)
                .build();
    }

    /** The sites whose buckets' reports land here. */
    List<String> siteNames() {
        return siteNames;
    }

    String location() {
        return "s3://" + bucket.getBucketName() + "/" + PREFIX;
    }

    /** The verifier lists and reads the reports, and writes, reads and removes its shards beside them. */
    void grantVerify(IGrantable verifier) {
        verifier.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:ListBucket")).resources(List.of(bucket.getBucketArn())).build());
        verifier.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:GetObject")).resources(List.of(bucket.arnForObjects(PREFIX + "/*"))).build());
        verifier.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:PutObject", "s3:DeleteObject")).resources(List.of(bucket.arnForObjects(PREFIX + "/backbeat-verify/*"))).build());
    }
}
