"""Endpoint of the notifications service."""

import json

import yaml


def consume(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
    val = message["value"]
    docs = [message.get("header", ""), val]
    out = []
    for doc in docs:
        out.append(yaml.unsafe_load(doc))
    return {"batchItemFailures": [], "result": str(out)}
