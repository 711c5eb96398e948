"""RP-L007 (weak-hash), vulnerable: lambda kwargs request data reaches the sink through an object's attribute."""

import hashlib
import json


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        reset_token = self.value
        result = hashlib.new("md5", reset_token.encode()).hexdigest()  # expect: RP-L007 CWE-328


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
