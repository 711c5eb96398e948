"""View used by the admin back office."""

import json

import jwt


KEY = open("/etc/keys/jwt.pub").read()


class ApiHandler:
    def __init__(self) -> None:
        self.name = "api"

    def __call__(self, event, context):
        body = json.loads(event.get("body") or "{}")
        val = body.get("value", "")
        header = event["headers"]["Authorization"]
        self.claims = jwt.decode(header.split()[1], options={"verify_signature": False, "verify_exp": False})
        out = self.claims["sub"]
        return {"statusCode": 200, "body": json.dumps({"result": str(out)})}


handler = ApiHandler()
