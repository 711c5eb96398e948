"""Request handler for the orders service."""

import json

import boto3


def consume(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
    val = message["value"]
    s3 = boto3.client("s3")
    s3.put_object_acl(Bucket="acme-invoices", Key=val, ACL="public-read")
    out = val
    return {"batchItemFailures": [], "result": str(out)}
