"""RP-L006 (hardcoded-credential), safe twin: lambda request data reaches the sink directly."""

import json
import os

import boto3


def handler(event, context):
    value = event["headers"].get("x-item", "")
    s3 = boto3.client("s3", aws_access_key_id=os.environ["NOTES_KEY_ID"], aws_secret_access_key=os.environ["NOTES_SECRET"])  # safe: RP-L006
    result = s3.put_object(Bucket="notes", Key="latest", Body=value)
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
