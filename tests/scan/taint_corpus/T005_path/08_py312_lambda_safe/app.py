"""RP-T005 (path), safe twin, Python 3.12 syntax: the resolved path must stay in the folder."""

import json
from pathlib import Path

REPORTS = Path("/srv/reports").resolve()


def read_report[P: str](name: P) -> str:
    target = (REPORTS / name).resolve()
    if not target.is_relative_to(REPORTS):
        raise ValueError("outside the reports folder")
    return target.read_text()  # safe: RP-T005


def handler(event, context):
    name = event["queryStringParameters"]["report"]
    return {"statusCode": 200, "body": json.dumps({"report": read_report(name)})}
