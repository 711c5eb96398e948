"""GET /orders/{id}: a private route (needs an API key)."""


def handler(event, context):
    order = context.kv.get("orders", event["pathParameters"]["id"])
    if order is None:
        return {"statusCode": 404, "body": "not found"}
    return order
