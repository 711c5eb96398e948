"""Handler of the catalogue service."""

import json
import logging


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    logger = logging.getLogger()
    val = val.replace("\n", " ").replace("\r", " ")
    logger.info(f"search term: {val}")
    out = "ok"
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
