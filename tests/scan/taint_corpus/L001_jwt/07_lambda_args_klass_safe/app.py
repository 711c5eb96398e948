"""RP-L001 (jwt), safe twin: lambda args request data reaches the sink through an object's attribute."""

import json
import os

from jose import jwt

SECRET_KEY = os.environ["JWT_SECRET"]


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = jwt.decode(self.value, SECRET_KEY, algorithms=["HS256"])  # safe: RP-L001


def handler(*args):
    ev, _ctx = args
    body = json.loads(ev["body"])
    job = Job(body["value"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
