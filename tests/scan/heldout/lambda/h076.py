"""View used by the admin back office."""

import json


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    expr = val.strip()
    out = eval(expr)
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
