"""RP-T005 (path), vulnerable, Python 3.12 syntax: a generic reader with a bounded type parameter."""

import json
from pathlib import Path

REPORTS = Path("/srv/reports")


def read_report[P: str](name: P) -> str:
    return (REPORTS / name).read_text()  # expect: RP-T005 CWE-22


def handler(event, context):
    name = event["queryStringParameters"]["report"]
    return {"statusCode": 200, "body": json.dumps({"report": read_report(name)})}
