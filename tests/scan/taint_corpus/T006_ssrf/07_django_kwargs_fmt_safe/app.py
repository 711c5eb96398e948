"""RP-T006 (ssrf), safe twin: django kwargs request data reaches the sink through str.format."""

from urllib.parse import urlparse

import requests
from django.http import JsonResponse

ALLOWED_HOSTS = {"api.example.com", "cdn.example.com"}


def item_detail(request, slug):
    value = "{}".format(slug).strip()
    if urlparse(value).hostname not in ALLOWED_HOSTS:
        raise ValueError("host not allowed")
    result = requests.get(value, timeout=5).text  # safe: RP-T006
    return JsonResponse({"ok": True})
