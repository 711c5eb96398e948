"""Scheduled (EventBridge-style) report over all orders."""

import json


def handler(event, context):
    orders = context.kv.query("orders", prefix="o-", limit=1000)
    report = {
        "at": event["time"],
        "orders": len(orders),
        "revenue": round(sum(o["item"]["total"] for o in orders), 2),
    }
    context.objects.put(
        "reports", "nightly.json", json.dumps(report).encode(), content_type="application/json"
    )
    print(f"report: {report}")
    return report
