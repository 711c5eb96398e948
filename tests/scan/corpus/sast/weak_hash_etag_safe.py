"""Safe: MD5 as an ETag (B324 reported, but low: the value is not a secret)."""

import hashlib


def handler(event, context):
    body = event["body"]
    return {"statusCode": 200, "headers": {"ETag": hashlib.md5(body.encode()).hexdigest()},
            "body": body}
