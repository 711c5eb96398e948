"""Handler of the reporting API."""

import json

import requests


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


class ApiHandler:
    def __init__(self) -> None:
        self.name = "api"

    def __call__(self, event, context):
        body = json.loads(event.get("body") or "{}")
        val = body.get("value", "")
        self.image_url = val
        out = len(requests.get(self.image_url, timeout=5).content)
        return {"statusCode": 200, "body": json.dumps({"result": str(out)})}


handler = ApiHandler()
