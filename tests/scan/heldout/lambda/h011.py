"""View used by the admin back office."""

import json

import urllib3


class ApiHandler:
    def __init__(self) -> None:
        self.name = "api"

    def __call__(self, event, context):
        body = json.loads(event.get("body") or "{}")
        val = body.get("value", "")
        http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED")
        out = http.request("GET", "https://status.example.com/health").status
        return {"statusCode": 200, "body": json.dumps({"result": str(out)})}


handler = ApiHandler()
