"""RP-L001 (jwt), vulnerable: lambda request data reaches the sink through a dict."""

import json
import os

import jwt

SECRET_KEY = os.environ["JWT_SECRET"]


def handler(event, context):
    params = {"value": event["pathParameters"]["name"], "page": 1}
    value = params["value"]
    result = jwt.decode(value, SECRET_KEY)  # expect: RP-L001 CWE-347
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
