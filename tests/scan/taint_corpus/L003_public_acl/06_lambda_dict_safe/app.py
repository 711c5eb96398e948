"""RP-L003 (public-acl), safe twin: lambda request data reaches the sink through a dict."""

import json

import boto3

S3 = boto3.client("s3")


def handler(event, context):
    body = json.loads(event["body"])
    params = {"value": body["value"], "page": 1}
    value = params["value"]
    result = S3.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": value}, ExpiresIn=600)  # safe: RP-L003
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
