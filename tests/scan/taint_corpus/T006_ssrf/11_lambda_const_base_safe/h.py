"""RP-T006 (ssrf), safe twin: a literal base URL constant fixes the host; input is the query."""

import requests

API = "https://api.example.com"


def handler(event, context):
    q = event["q"]
    r = requests.get(f"{API}/v2?q={q}", timeout=5)  # safe: RP-T006
    return {"statusCode": 200, "body": r.text}
