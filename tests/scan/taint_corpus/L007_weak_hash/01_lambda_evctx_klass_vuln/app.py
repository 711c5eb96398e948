"""RP-L007 (weak-hash), vulnerable: lambda evctx request data reaches the sink through an object's attribute."""

import hashlib
import json


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        password = self.value
        result = hashlib.md5(password.encode()).hexdigest()  # expect: RP-L007 CWE-328


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    job = Job(body["value"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
