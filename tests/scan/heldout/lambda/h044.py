"""View used by the admin back office."""

import json
import logging


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    logger = logging.getLogger()
    logger.info(f"search term: {val}")
    out = "ok"
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
