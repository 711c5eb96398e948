"""Endpoint of the customer portal."""

import json
import urllib.request
from urllib.parse import urlparse


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    parsed = urlparse(val)
    if parsed.scheme != "https" or parsed.hostname not in ALLOWED_HOSTS:
        return {"statusCode": 400, "body": "host not allowed"}
    out = urllib.request.urlopen(val, timeout=5).read()
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
