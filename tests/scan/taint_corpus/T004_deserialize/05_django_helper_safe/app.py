"""RP-T004 (deserialize), safe twin: django request data reaches the sink through a helper in helpers.py."""

from django.http import JsonResponse
from helpers import process


def item_view(request):
    process(request.GET.get("q", ""))
    return JsonResponse({"ok": True})
