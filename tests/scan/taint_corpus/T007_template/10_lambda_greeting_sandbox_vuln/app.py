"""RP-T007: a Lambda renders a greeting template the caller supplies."""

import json

from jinja2 import Environment

ENV = Environment(autoescape=True)


def handler(event, context):
    params = event.get("queryStringParameters") or {}
    template = ENV.from_string(params.get("greeting", "Hello {{ name }}"))  # expect: RP-T007 CWE-1336
    text = template.render(name=params.get("name", "there"))
    return {"statusCode": 200, "body": json.dumps({"text": text})}
