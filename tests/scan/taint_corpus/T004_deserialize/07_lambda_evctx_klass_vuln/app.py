"""RP-T004 (deserialize), vulnerable: lambda evctx request data reaches the sink through an object's attribute."""

import base64
import json
import pickle


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = pickle.loads(base64.b64decode(self.value))  # expect: RP-T004 CWE-502


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    job = Job(body["value"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
