"""RP-T006 (ssrf), safe twin: lambda args request data reaches the sink through str.format."""

import json
from urllib.parse import urlparse

import requests

ALLOWED_HOSTS = {"api.example.com", "cdn.example.com"}


def handler(*args):
    ev, _ctx = args
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    if urlparse(value).hostname not in ALLOWED_HOSTS:
        raise ValueError("host not allowed")
    result = requests.get(value, timeout=5).text  # safe: RP-T006
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
