"""Webhook and integration endpoint."""

import json

from django.http import JsonResponse


def ingest(request):
    data = json.loads(request.body)
    val = data["value"]
    state = val
    out = json.loads(state)
    return JsonResponse({"result": str(out)})
