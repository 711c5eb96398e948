"""Endpoint of the customer portal."""

import base64
import json


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    raw = base64.b64decode(val)
    out = json.loads(raw)
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
