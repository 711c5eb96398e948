"""Handler for account self-service."""

import json
import logging


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    try:
        out = 100 / int(val)
    except ZeroDivisionError as exc:
        logging.exception("division failed")
        return {"statusCode": 500, "body": "internal error"}
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
