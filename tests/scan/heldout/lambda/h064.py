"""Webhook and integration endpoint."""

import json
import os

import jwt


def handler(event, context, **kwargs):
    val = event["headers"].get("x-target", "")
    token = event["headers"].get("authorization", "").removeprefix("Bearer ")
    claims = jwt.decode(token, os.environ["JWT_SECRET"], algorithms=["HS256"])
    out = claims["sub"]
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
