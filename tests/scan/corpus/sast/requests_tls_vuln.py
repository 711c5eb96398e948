"""Vulnerable: TLS verification off (bandit B501) and a request without a timeout (B113)."""

import requests


def handler(event, context):
    status = requests.get("https://status.example.com/", verify=False, timeout=5)  # finding: B501
    requests.post("https://audit.example.com/events", json={"ok": True})  # finding: B113
    return {"statusCode": 200, "body": status.text}
