"""RP-T006: a Lambda stores webhook subscriptions and notifies each callback URL."""

import json
from urllib.parse import urlparse

import requests

ALLOWED_HOOK_HOSTS = {"hooks.slack.com", "events.pagerduty.com"}


def notify_all(subscriptions, payload):
    for sub in subscriptions.values():
        parsed = urlparse(sub["url"])
        if parsed.scheme != "https" or parsed.hostname not in ALLOWED_HOOK_HOSTS:
            continue
        requests.post(sub["url"], json=payload, timeout=5)  # safe: RP-T006


def handler(event, context):
    body = json.loads(event["body"])
    subscriptions = {}
    for hook in body["hooks"]:
        subscriptions[hook["name"]] = {"url": hook["callback_url"]}
    notify_all(subscriptions, {"event": "registered"})
    return {"statusCode": 202, "body": ""}
