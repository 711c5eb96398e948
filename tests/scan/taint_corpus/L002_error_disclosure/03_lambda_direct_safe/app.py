"""RP-L002 (error-disclosure), safe twin: lambda request data reaches the sink directly."""

import json
import logging

LOG = logging.getLogger(__name__)


def handler(event, context):
    value = event["queryStringParameters"]["q"]
    try:
        order = json.loads(value)
        total = sum(line["price"] * line["qty"] for line in order["lines"])
        result = {"statusCode": 200, "body": json.dumps({"total": total})}
    except Exception:
        LOG.exception("order total failed")
        result = {"statusCode": 500, "body": json.dumps({"error": "internal error"})}  # safe: RP-L002
    return result
