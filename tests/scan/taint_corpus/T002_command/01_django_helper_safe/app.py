"""RP-T002 (command), safe twin: django request data reaches the sink through a helper in helpers.py."""

from django.http import JsonResponse
from helpers import process


def item_view(request):
    process(request.POST["name"])
    return JsonResponse({"ok": True})
