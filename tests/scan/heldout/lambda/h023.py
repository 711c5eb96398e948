"""Handler of the reporting API."""

import hashlib
import json


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    api_key = event["headers"]["x-api-key"]
    key_digest = hashlib.md5(api_key.encode()).hexdigest()
    out = {"lookup": key_digest, "q": val}
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
