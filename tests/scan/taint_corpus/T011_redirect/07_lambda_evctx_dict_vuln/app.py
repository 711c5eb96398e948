"""RP-T011 (redirect), vulnerable: lambda evctx request data reaches the sink through a dict."""

import json


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    params = {"value": body["value"], "page": 1}
    value = params["value"]
    result = {"statusCode": 302, "headers": {"Location": value}, "body": ""}  # expect: RP-T011 CWE-601
    return result
