"""View used by the admin back office."""

import json

import jsonpickle
from django.http import JsonResponse


def ingest(request):
    data = json.loads(request.body)
    val = data["value"]
    state = val
    out = jsonpickle.decode(state)
    return JsonResponse({"result": str(out)})
