"""RP-L006 (hardcoded-credential), vulnerable: lambda request data reaches the sink directly."""

import json

import boto3


def handler(event, context):
    value = event["headers"].get("x-item", "")
    s3 = boto3.client("s3", aws_access_key_id="AKIAQ7EXAMPLEK3Y4RZ2", aws_secret_access_key="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")  # expect: RP-L006 CWE-798
    result = s3.put_object(Bucket="notes", Key="latest", Body=value)
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
