"""Request handler for the orders service."""

import json
import secrets


class ApiHandler:
    def __init__(self) -> None:
        self.name = "api"

    def __call__(self, event, context):
        body = json.loads(event.get("body") or "{}")
        val = body.get("value", "")
        invite_code = "".join(str(secrets.randbelow(10)) for _ in range(10))
        out = invite_code
        return {"statusCode": 200, "body": json.dumps({"result": str(out)})}


handler = ApiHandler()
