"""RP-T007 (template), safe twin: lambda evctx request data reaches the sink through str.format."""

import json

from mako.template import Template


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    value = "{}".format(body["value"]).strip()
    result = Template("<p>Dear ${name | h},</p>").render(name=value)  # safe: RP-T007
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
