"""Vulnerable: a URL from the JSON body is fetched with requests and httpx (RP-T006, SSRF)."""

import json

import httpx
import requests


def handler(event, context):
    body = json.loads(event["body"])
    preview = requests.get(body["url"], timeout=5)  # finding: RP-T006
    with httpx.Client(timeout=5) as http_client:
        hook = http_client.post(body["callback"], json={"ok": True})  # finding: RP-T006
    target = "https://" + body["host"] + "/status"
    status = requests.get(target, timeout=5)  # finding: RP-T006
    return {"statusCode": 200, "body": preview.text + hook.text + status.text}
