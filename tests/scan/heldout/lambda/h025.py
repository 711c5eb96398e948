"""Endpoint of the notifications service."""

import json
from urllib.parse import urlparse


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    return_to = val
    if urlparse(return_to).hostname != "app.example.com":
        return_to = "https://app.example.com/"
    return {"statusCode": 302, "headers": {"Location": return_to}, "body": ""}
