"""Webhook and integration endpoint."""

import httpx
from django.http import JsonResponse


ALLOWED_HOSTS = {"api.partner.example", "hooks.example.com"}


def search(request):
    val = request.GET.get("q", "")
    with httpx.Client(timeout=5) as client:
        out = client.get(val).text
    return JsonResponse({"result": str(out)})
