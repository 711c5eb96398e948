"""View used by the admin back office."""

import json


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    return_to = val
    return {"statusCode": 302, "headers": {"Location": return_to}, "body": ""}
