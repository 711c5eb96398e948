"""Safe twin of yaml_dynamodb_vuln: yaml with a safe loader, JSON instead of marshal."""

import json

import yaml


def handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        settings = yaml.safe_load(image["settings"]["S"])
        more = yaml.load(image["extra"]["S"], Loader=yaml.SafeLoader)
        state = json.loads(image["state"]["S"])
        context.kv.put("settings", image["id"]["S"], {"s": settings, "m": more, "st": state})
