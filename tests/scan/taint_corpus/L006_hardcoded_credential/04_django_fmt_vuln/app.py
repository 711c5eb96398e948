"""RP-L006 (hardcoded-credential), vulnerable: django request data reaches the sink through str.format."""

import json

import requests
from django.http import JsonResponse


def item_view(request):
    payload = json.loads(request.body)
    value = "{}".format(payload["value"]).strip()
    result = requests.post("https://sms.example.net/send", json={"to": value}, auth=("shop-sms", "p4ss-W0rd-2024-live"), timeout=5)  # expect: RP-L006 CWE-798
    return JsonResponse({"ok": True})
