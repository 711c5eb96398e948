"""RP-T006: an EventBridge rule's Lambda reports job results to the callback in the event."""

import json
import urllib.request

CALLBACK_HOSTS = {"jobs.example.com"}


def report(callback, result):
    req = urllib.request.Request(callback, data=json.dumps(result).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:  # expect: RP-T006 CWE-918
        return resp.status


def handler(event, context):
    detail = event["detail"]
    return {"status": report(detail["callback_url"], {"job": detail["job_id"], "ok": True})}
