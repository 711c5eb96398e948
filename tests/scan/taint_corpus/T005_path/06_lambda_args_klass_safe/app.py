"""RP-T005 (path), safe twin: lambda args request data reaches the sink through an object's attribute."""

import json
import os


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        name = self.value.replace("/", "-").replace("\\", "-")
        result = os.remove(f"/tmp/cache/{name}")  # safe: RP-T005


def handler(*args):
    ev, _ctx = args
    body = json.loads(ev["body"])
    job = Job(body["value"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
