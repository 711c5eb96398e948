"""Request handler for the orders service."""

import json
import urllib.request


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    out = urllib.request.urlopen(val, timeout=5).read()
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
