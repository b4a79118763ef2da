package io.backbeatserverless.infra;

import io.github.cdklabs.cdknag.NagPackSuppression;
import io.github.cdklabs.cdknag.NagSuppressions;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.services.iam.IGrantable;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.s3.BlockPublicAccess;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.s3.BucketEncryption;
import software.amazon.awscdk.services.s3.LifecycleRule;
import software.constructs.Construct;

import java.util.List;

/**
 * Where an MSK trigger puts a batch it gave up on: an S3 bucket, the one on-failure destination that receives the
 * batch's records as well as its offsets ("For Amazon S3 destinations, Lambda also sends the entire invocation record
 * along with the metadata", Lambda Developer Guide, with-msk-on-failure.html), so nothing is lost with the partition's
 * progress. A new object raises an alarm (an EventBridge rule, {@link ReplicationMonitoring}); an operator replays its
 * records through the ops API ({@code POST /_/crr/trigger-failures/replay}, docs/operations.md). Kept 90 days.
 */
final class TriggerFailures extends Construct {

    private final Bucket bucket;

    TriggerFailures(Construct scope, String id) {
        super(scope, id);
        bucket = Bucket.Builder.create(this, "Bucket")
                .encryption(BucketEncryption.S3_MANAGED)
                .enforceSsl(true)
                .blockPublicAccess(BlockPublicAccess.BLOCK_ALL)
                .versioned(false)
                .eventBridgeEnabled(true)
                .lifecycleRules(List.of(LifecycleRule.builder().id("expire-after-90-days").expiration(Duration.days(90)).build()))
                // The records of failed batches outlive the stack: they may be all that is left of those entries.
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        NagSuppressions.addResourceSuppressions(bucket, List.of(NagPackSuppression.builder().id("AwsSolutions-S1")
                .reason("Only Lambda's MSK triggers write here, through the functions' roles; an access log of a bucket that "
                        + "receives a handful of objects in a bad week adds a second bucket and nothing an operator needs.")
                .build()));
    }

    String bucketArn() {
        return bucket.getBucketArn();
    }

    Bucket bucket() {
        return bucket;
    }

    /** The ops function lists, reads and (once replayed) deletes the batches kept here. */
    void grantReplay(IGrantable ops) {
        ops.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:ListBucket")).resources(List.of(bucket.getBucketArn())).build());
        ops.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:GetObject", "s3:DeleteObject")).resources(List.of(bucket.arnForObjects("*"))).build());
    }

    /**
     * What the mapping needs in its function's role to write there: s3:PutObject and s3:ListBucket (Lambda Developer
     * Guide, with-msk-on-failure.html; CDK's own S3OnFailureDestination grants read and write, more than that).
     */
    void grantWrite(IGrantable function) {
        function.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:ListBucket")).resources(List.of(bucket.getBucketArn())).build());
        function.getGrantPrincipal().addToPrincipalPolicy(PolicyStatement.Builder.create()
                .actions(List.of("s3:PutObject")).resources(List.of(bucket.arnForObjects("*"))).build());
    }
}
