"""RP-L005 (tls-verify), safe twin: django kwargs request data reaches the sink through a helper in helpers.py."""

from django.http import JsonResponse
from helpers import process


def item_detail(request, slug):
    process(slug)
    return JsonResponse({"ok": True})
