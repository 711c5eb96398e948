"""RP-T007 (template), safe twin: lambda request data reaches the sink through a dict."""

import json

from jinja2 import Environment

ENV = Environment(autoescape=True)
TEMPLATES = {"welcome": "Welcome to {{ shop }}", "bye": "Bye from {{ shop }}"}


def handler(event, context):
    params = {"value": event["headers"].get("x-item", ""), "page": 1}
    value = params["value"]
    if value not in TEMPLATES:
        raise ValueError("unknown template")
    result = ENV.from_string(TEMPLATES[value]).render(shop="Acme")  # safe: RP-T007
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
