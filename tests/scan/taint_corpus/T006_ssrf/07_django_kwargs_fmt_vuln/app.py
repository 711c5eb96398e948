"""RP-T006 (ssrf), vulnerable: django kwargs request data reaches the sink through str.format."""

import requests
from django.http import JsonResponse


def item_detail(request, slug):
    value = "{}".format(slug).strip()
    result = requests.get(value, timeout=5).text  # expect: RP-T006 CWE-918
    return JsonResponse({"ok": True})
