"""POST /orders: store the order and announce it (an HTTP API v2 handler)."""

import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    order = json.loads(event["body"])
    total = round(sum(i["qty"] * i["price"] for i in order["items"]), 2)
    record = {
        "id": order["id"],
        "customer": order.get("customer", ""),
        "total": total,
        "status": "created",
    }
    context.kv.put("orders", order["id"], record)
    context.publish("order-created", {"id": order["id"], "total": total})
    logger.info("created order %s (total %s)", order["id"], total)
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(record),
    }
