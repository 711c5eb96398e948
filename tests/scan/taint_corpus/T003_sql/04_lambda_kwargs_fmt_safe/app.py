"""RP-T003 (sql), safe twin: lambda kwargs request data reaches the sink through str.format."""

import json
import sqlite3


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    body = json.loads(ev["body"])
    value = "{}".format(body["value"]).strip()
    cur = sqlite3.connect("/tmp/app.db").cursor()
    cur.execute("SELECT id, email FROM users WHERE name = ?", (value,))  # safe: RP-T003
    result = cur.fetchall()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
