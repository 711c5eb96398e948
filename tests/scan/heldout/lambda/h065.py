"""Request handler for the orders service."""

import html
import json


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    rows = "".join(f"<li>{html.escape(item)}</li>" for item in val.split(","))
    return {"statusCode": 200, "headers": {"Content-Type": "text/html"}, "body": f"<ul>{rows}</ul>"}
