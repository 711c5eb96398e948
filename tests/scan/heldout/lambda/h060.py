"""Endpoint of the customer portal."""

import json

from shared import Lookup


class ApiHandler:
    def __init__(self) -> None:
        self.name = "api"

    def __call__(self, event, context):
        body = json.loads(event.get("body") or "{}")
        val = body.get("value", "")
        lookup = Lookup(val)
        self.last = lookup
        out = eval(self.last.term)
        return {"statusCode": 200, "body": json.dumps({"result": str(out)})}


handler = ApiHandler()
