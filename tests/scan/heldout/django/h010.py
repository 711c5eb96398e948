"""Endpoint of the customer portal."""

import os

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    target = os.path.join("/srv/media", val)
    with open(target) as fh:
        out = fh.read()
    return JsonResponse({"result": str(out)})
