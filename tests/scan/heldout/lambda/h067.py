"""Endpoint of the notifications service."""

import ast
import json


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    expr = val.strip()
    out = ast.literal_eval(expr)
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
