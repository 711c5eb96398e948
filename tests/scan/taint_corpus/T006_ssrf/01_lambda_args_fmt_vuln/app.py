"""RP-T006 (ssrf), vulnerable: lambda args request data reaches the sink through str.format."""

import json

import requests


def handler(*args):
    ev, _ctx = args
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = requests.get(value, timeout=5).text  # expect: RP-T006 CWE-918
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
