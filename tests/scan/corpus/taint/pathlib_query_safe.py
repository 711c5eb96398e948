"""Safe twin of pathlib_query_vuln: the path is resolved and must stay under its base dir."""

from pathlib import Path

BASE = Path("/var/task/static").resolve()


def handler(event, context):
    name = event["queryStringParameters"]["file"]
    target = (BASE / name).resolve()
    if not target.is_relative_to(BASE):
        return {"statusCode": 404, "body": "not found"}
    return {"statusCode": 200, "body": target.read_text()}
