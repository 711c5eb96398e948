"""RP-T005 (path), vulnerable: lambda evctx request data reaches the sink through str.format."""

import json
from pathlib import Path

BASE = Path("/srv/reports").resolve()


def main(ev, ctx):
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = (BASE / value).read_text()  # expect: RP-T005 CWE-22
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
