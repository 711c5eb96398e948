"""RP-T002 (command), vulnerable: lambda evctx request data reaches the sink through an object's attribute."""

import json
import subprocess


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = subprocess.Popen("ping -c 1 %s" % self.value, shell=True)  # expect: RP-T002 CWE-78


def main(ev, ctx):
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
