"""Endpoint of the customer portal."""

import json

from tornado.template import Template


def consume(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
    val = message["value"]
    greeting = message.get("greeting", "Hello")
    body = "{{ greeting }} {{ name }}"
    out = Template(body).generate(greeting=greeting, name=val)
    return {"batchItemFailures": [], "result": str(out)}
