"""RP-T007 (template), vulnerable: lambda evctx request data reaches the sink through str.format."""

import json

from mako.template import Template


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    value = "{}".format(body["value"]).strip()
    result = Template(f"<p>Dear {value},</p>").render()  # expect: RP-T007 CWE-1336
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
