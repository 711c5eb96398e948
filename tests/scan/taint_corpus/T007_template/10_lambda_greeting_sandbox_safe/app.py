"""RP-T007: a Lambda renders a greeting template the caller supplies."""

import json

from jinja2.sandbox import SandboxedEnvironment

ENV = SandboxedEnvironment(autoescape=True)


def handler(event, context):
    params = event.get("queryStringParameters") or {}
    template = ENV.from_string(params.get("greeting", "Hello {{ name }}"))  # safe: RP-T007
    text = template.render(name=params.get("name", "there"))
    return {"statusCode": 200, "body": json.dumps({"text": text})}
