"""RP-L003 (public-acl), safe twin: lambda evctx request data reaches the sink through str.format."""

import json

import boto3

S3 = boto3.client("s3")


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    value = "{}".format(body["value"]).strip()
    result = S3.upload_file("/tmp/report.pdf", "reports", value, ExtraArgs={"ServerSideEncryption": "AES256"})  # safe: RP-L003
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
