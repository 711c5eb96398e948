"""Webhook and integration endpoint."""

import base64
import json
import pickle


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    raw = base64.b64decode(val)
    out = pickle.loads(raw)
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
