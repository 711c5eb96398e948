"""Request handler for the orders service."""

import json


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    try:
        out = 100 / int(val)
    except ZeroDivisionError as exc:
        return {"statusCode": 500, "body": str(exc)}
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
