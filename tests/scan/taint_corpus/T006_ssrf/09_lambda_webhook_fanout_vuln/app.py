"""RP-T006: a Lambda stores webhook subscriptions and notifies each callback URL."""

import json

import requests

ALLOWED_HOOK_HOSTS = {"hooks.slack.com", "events.pagerduty.com"}


def notify_all(subscriptions, payload):
    for sub in subscriptions.values():
        requests.post(sub["url"], json=payload, timeout=5)  # expect: RP-T006 CWE-918


def handler(event, context):
    body = json.loads(event["body"])
    subscriptions = {}
    for hook in body["hooks"]:
        subscriptions[hook["name"]] = {"url": hook["callback_url"]}
    notify_all(subscriptions, {"event": "registered"})
    return {"statusCode": 202, "body": ""}
