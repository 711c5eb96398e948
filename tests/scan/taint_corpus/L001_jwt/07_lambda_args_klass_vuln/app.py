"""RP-L001 (jwt), vulnerable: lambda args request data reaches the sink through an object's attribute."""

import json
import os

from jose import jwt

SECRET_KEY = os.environ["JWT_SECRET"]


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = jwt.get_unverified_claims(self.value)  # expect: RP-L001 CWE-347


def handler(*args):
    ev, _ctx = args
    body = json.loads(ev["body"])
    job = Job(body["value"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
