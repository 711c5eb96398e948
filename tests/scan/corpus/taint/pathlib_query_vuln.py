"""Vulnerable: a query parameter is joined to a base dir with pathlib and read (RP-T005)."""

from pathlib import Path

BASE = Path("/var/task/static")


def handler(event, context):
    name = event["queryStringParameters"]["file"]
    target = BASE / name
    return {"statusCode": 200, "body": target.read_text()}  # finding: RP-T005
