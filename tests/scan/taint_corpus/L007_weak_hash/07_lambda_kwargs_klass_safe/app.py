"""RP-L007 (weak-hash), safe twin: lambda kwargs request data reaches the sink through an object's attribute."""

import hashlib
import json


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        reset_token = self.value
        result = hashlib.new("sha256", reset_token.encode()).hexdigest()  # safe: RP-L007


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
