"""RP-L006 (hardcoded-credential), safe twin: django request data reaches the sink through str.format."""

import json
import os

import requests
from django.http import JsonResponse


def item_view(request):
    payload = json.loads(request.body)
    value = "{}".format(payload["value"]).strip()
    result = requests.post("https://sms.example.net/send", json={"to": value}, auth=("shop-sms", os.environ["SMS_PASSWORD"]), timeout=5)  # safe: RP-L006
    return JsonResponse({"ok": True})
