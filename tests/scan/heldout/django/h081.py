"""View used by the admin back office."""

import os

from django.http import JsonResponse
from django.utils._os import safe_join


def search(request):
    val = request.GET.get("q", "")
    target = safe_join("/srv/media", val)
    with open(target) as fh:
        out = fh.read()
    return JsonResponse({"result": str(out)})
