"""RP-L003 (public-acl), vulnerable: lambda request data reaches the sink through a dict."""

import json

import boto3

S3 = boto3.client("s3")


def handler(event, context):
    body = json.loads(event["body"])
    params = {"value": body["value"], "page": 1}
    value = params["value"]
    result = S3.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": value, "ACL": "public-read"}, ExpiresIn=600)  # expect: RP-L003 CWE-732
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
