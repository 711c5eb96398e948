"""RP-T014 (log), safe twin: lambda args request data reaches the sink through an object's attribute."""

import json
import logging

LOG = logging.getLogger(__name__)


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = LOG.error("upload rejected: %s" % json.dumps(self.value))  # safe: RP-T014


def handler(*args):
    ev, _ctx = args
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
