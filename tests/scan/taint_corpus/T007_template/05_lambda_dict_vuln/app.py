"""RP-T007 (template), vulnerable: lambda request data reaches the sink through a dict."""

import json

from jinja2 import Environment

ENV = Environment(autoescape=True)


def handler(event, context):
    params = {"value": event["headers"].get("x-item", ""), "page": 1}
    value = params["value"]
    result = ENV.from_string(value).render(shop="Acme")  # expect: RP-T007 CWE-1336
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
