"""Handler of the catalogue service."""

from urllib.parse import urlparse

import httpx
from django.http import JsonResponse


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


def search(request):
    val = request.GET.get("q", "")
    if urlparse(val).hostname not in ALLOWED_HOSTS:
        return JsonResponse({"error": "host not allowed"}, status=400)
    with httpx.Client(timeout=5) as client:
        out = client.get(val).text
    return JsonResponse({"result": str(out)})
