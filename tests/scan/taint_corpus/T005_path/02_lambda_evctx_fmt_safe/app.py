"""RP-T005 (path), safe twin: lambda evctx request data reaches the sink through str.format."""

import json
from pathlib import Path

BASE = Path("/srv/reports").resolve()


def main(ev, ctx):
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    target = (BASE / value).resolve()
    if not target.is_relative_to(BASE):
        raise ValueError("outside the reports folder")
    result = target.read_text()  # safe: RP-T005
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
