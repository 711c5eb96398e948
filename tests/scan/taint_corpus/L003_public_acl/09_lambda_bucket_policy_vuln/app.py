"""RP-L003: a provisioning Lambda creates a tenant's bucket and attaches its policy."""

import json

import boto3

S3 = boto3.client("s3")


def bucket_policy(bucket):
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": "*",  # expect: RP-L003 CWE-732
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }],
    }


def handler(event, context):
    tenant = json.loads(event["body"])["tenant"]
    bucket = f"tenant-{int(tenant)}-files"
    S3.create_bucket(Bucket=bucket)
    S3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(bucket_policy(bucket)))
    return {"statusCode": 201, "body": json.dumps({"bucket": bucket})}
