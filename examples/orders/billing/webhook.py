"""Stripe webhook: the gateway has verified the signature before this runs."""

import json


def handler(event, context):
    payload = json.loads(event["body"])
    obj = payload["data"]["object"]
    context.kv.put("payments", payload["id"], {"type": payload["type"], "amount": obj["amount"]})
    print(f"{payload['type']} {payload['id']} amount={obj['amount']}")
    return {"statusCode": 200, "body": "ok"}
