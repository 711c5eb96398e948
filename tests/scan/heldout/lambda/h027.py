"""Request handler for the orders service."""

import json

from tornado.template import Template


def consume(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
    val = message["value"]
    greeting = message.get("greeting", "Hello")
    body = f"{greeting} {val}"
    out = Template(body).generate()
    return {"batchItemFailures": [], "result": str(out)}
