"""Vulnerable: a DynamoDB stream NewImage is loaded with yaml.load / marshal (RP-T004)."""

import marshal

import yaml


def handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        settings = yaml.load(image["settings"]["S"], Loader=yaml.FullLoader)  # finding: RP-T004
        blob = marshal.loads(bytes.fromhex(image["state"]["S"]))  # finding: RP-T004
        context.kv.put("settings", image["id"]["S"], {"settings": settings, "blob": blob})
