"""RP-L007 (weak-hash), safe twin: lambda evctx request data reaches the sink through an object's attribute."""

import hashlib
import json
import os


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        password = self.value
        salt = os.urandom(16)
        result = salt.hex() + hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000).hex()  # safe: RP-L007


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    job = Job(body["value"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
