"""RP-T011 (redirect), safe twin: lambda evctx request data reaches the sink through a dict."""

import json
from urllib.parse import urlparse

ALLOWED_HOSTS = {"shop.example.com", "accounts.example.com"}


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    params = {"value": body["value"], "page": 1}
    value = params["value"]
    if urlparse(value).hostname not in ALLOWED_HOSTS:
        raise ValueError("redirect target not allowed")
    result = {"statusCode": 302, "headers": {"Location": value}, "body": ""}  # safe: RP-T011
    return result
