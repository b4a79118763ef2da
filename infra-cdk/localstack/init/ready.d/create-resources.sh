#!/bin/bash
# LocalStack init hook: the queues, tables and buckets the CDK stack creates in AWS, with the same
# keys (functions/adapters/.../TableSchemas.java) and the default table names of docs/configuration.md.
set -euo pipefail

awslocal sqs create-queue --queue-name backbeat-source-changes
awslocal sqs create-queue --queue-name backbeat-trigger-failures

table() { # name, then key schema and attribute definitions as awscli shorthand
  awslocal dynamodb create-table --table-name "$1" --billing-mode PAY_PER_REQUEST \
    --key-schema "$2" --attribute-definitions "$3" "${@:4}"
}
table backbeat-replication-status "AttributeName=object,KeyType=HASH AttributeName=versionId,KeyType=RANGE" \
  "AttributeName=object,AttributeType=S AttributeName=versionId,AttributeType=S"
table backbeat-failed-entries "AttributeName=site,KeyType=HASH AttributeName=failureKey,KeyType=RANGE" \
  "AttributeName=site,AttributeType=S AttributeName=failureKey,AttributeType=S AttributeName=version,AttributeType=S" \
  --global-secondary-indexes '[{"IndexName":"byVersion","KeySchema":[{"AttributeName":"version","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]'
table backbeat-site-state "AttributeName=site,KeyType=HASH" "AttributeName=site,AttributeType=S"
table backbeat-checkpoints "AttributeName=feed,KeyType=HASH" "AttributeName=feed,AttributeType=S"
table backbeat-metrics "AttributeName=site,KeyType=HASH AttributeName=period,KeyType=RANGE" \
  "AttributeName=site,AttributeType=S AttributeName=period,AttributeType=S"
for ttl_table in backbeat-failed-entries backbeat-metrics; do
  awslocal dynamodb update-time-to-live --table-name "$ttl_table" \
    --time-to-live-specification "Enabled=true,AttributeName=expiresAt"
done

for bucket in sourcebucket dest-bucket; do
  awslocal s3api create-bucket --bucket "$bucket"
  awslocal s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
done
queue_arn=$(awslocal sqs get-queue-attributes --queue-url http://localhost:4566/000000000000/backbeat-source-changes \
  --attribute-names QueueArn --query Attributes.QueueArn --output text)
awslocal s3api put-bucket-notification-configuration --bucket sourcebucket --notification-configuration \
  "{\"QueueConfigurations\":[{\"QueueArn\":\"$queue_arn\",\"Events\":[\"s3:ObjectCreated:*\",\"s3:ObjectRemoved:*\"]}]}"
