"""RP-T006 (ssrf), vulnerable: the caller's value comes first, so it picks scheme and host."""

import requests

API = "https://api.example.com"


def handler(event, context):
    base = event["base"]
    r = requests.get(f"{base}/v2?q=status", timeout=5)  # expect: RP-T006 CWE-918
    return {"statusCode": 200, "body": r.text}
