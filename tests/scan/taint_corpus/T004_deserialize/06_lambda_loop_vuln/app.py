"""RP-T004 (deserialize), vulnerable: lambda request data reaches the sink through a list and a loop."""

import json

import yaml


def handler(event, context):
    body = json.loads(event["body"])
    values = []
    values.append(body["value"])
    for value in values:
        result = yaml.unsafe_load(value)  # expect: RP-T004 CWE-502
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
