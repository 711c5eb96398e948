"""RP-L001 (jwt), safe twin: lambda request data reaches the sink through a dict."""

import json
import os

import jwt

SECRET_KEY = os.environ["JWT_SECRET"]


def handler(event, context):
    params = {"value": event["pathParameters"]["name"], "page": 1}
    value = params["value"]
    result = jwt.decode(value, SECRET_KEY, algorithms=["HS256"])  # safe: RP-L001
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
