"""View used by the admin back office."""

import json

import requests


def consume(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
    val = message["value"]
    API_TOKEN = "sk_live_51Hx9ExampleTokenValue0000"
    out = requests.post("https://api.payments.example/v1/refunds", headers={"Authorization": f"Bearer {API_TOKEN}"}, json={"id": val}, timeout=5)
    return {"batchItemFailures": [], "result": str(out)}
