"""Request handler for the orders service."""

import json
import secrets


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    sid = secrets.token_urlsafe(32)
    return {"statusCode": 200, "headers": {"Set-Cookie": f"session={sid}; Path=/; Secure; HttpOnly; SameSite=Lax"}, "body": ""}
