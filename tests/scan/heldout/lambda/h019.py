"""View used by the admin back office."""

import json

import boto3


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    s3 = boto3.client("s3")
    s3.put_object(Bucket="acme-reports", Key=f"reports/{val}.csv", Body=b"id,total\n", ACL="public-read")
    out = "stored"
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
