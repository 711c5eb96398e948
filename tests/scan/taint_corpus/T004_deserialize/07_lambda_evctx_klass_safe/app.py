"""RP-T004 (deserialize), safe twin: lambda evctx request data reaches the sink through an object's attribute."""

import base64
import json


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = json.loads(base64.b64decode(self.value))  # safe: RP-T004


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    job = Job(body["value"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
