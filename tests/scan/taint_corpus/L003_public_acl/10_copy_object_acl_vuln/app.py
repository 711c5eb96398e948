"""RP-L003: a Lambda publishes a processed image by copying it to the site bucket."""

import json

import boto3

S3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        key = record["s3"]["object"]["key"]
        S3.copy_object(
            Bucket="site-assets",
            Key=f"images/{key.rsplit('/', 1)[-1]}",
            CopySource={"Bucket": record["s3"]["bucket"]["name"], "Key": key},
            ACL="public-read",  # expect: RP-L003 CWE-732
        )
    return {"statusCode": 200, "body": json.dumps({"copied": len(event["Records"])})}
