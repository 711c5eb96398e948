"""Safe twin of ssrf_body_vuln: scheme and host are fixed; the event picks only path or key."""

import json

import httpx
import requests

PARTNERS = {"acme": "https://api.acme.example/status", "globex": "https://globex.example/ping"}


def handler(event, context):
    body = json.loads(event["body"])
    item = requests.get(f"https://api.example.com/items/{body['id']}", timeout=5)
    partner = PARTNERS.get(body["partner"], PARTNERS["acme"])
    with httpx.Client(timeout=5) as http_client:
        status = http_client.get(partner)
    search = requests.get("https://search.example.com/q?{}".format(body["q"]), timeout=5)
    return {"statusCode": 200, "body": item.text + status.text + search.text}
