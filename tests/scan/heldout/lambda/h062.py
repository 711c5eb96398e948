"""Handler of the catalogue service."""

import json
import secrets


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    api_key = secrets.token_hex(16)
    out = {"client": val, "api_key": api_key}
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
