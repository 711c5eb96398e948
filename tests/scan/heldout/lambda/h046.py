"""Handler of the reporting API."""

import json

import requests


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    out = requests.get("https://billing.internal.example/api/v1/invoices", params={"q": val}, verify="/etc/ssl/internal-ca.pem", timeout=5).json()
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
