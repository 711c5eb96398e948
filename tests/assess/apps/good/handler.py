def handler(event, context):
    order = context.kv.get("orders", event["pathParameters"]["id"])
    return {"statusCode": 200 if order else 404, "body": "ok"}
