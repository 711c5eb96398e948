"""RP-T002 (command), safe twin: lambda evctx request data reaches the sink through an object's attribute."""

import json
import re
import subprocess


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", self.value):
            raise ValueError("not a host name")
        result = subprocess.Popen("ping -c 1 %s" % self.value, shell=True)  # safe: RP-T002


def main(ev, ctx):
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
