"""Handler of the catalogue service."""

import json


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    out = val
    return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true"}, "body": json.dumps({"result": out})}
