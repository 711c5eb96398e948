"""Endpoint of the billing service."""

import base64

import dill
from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    type Payload = bytes
    blob: Payload = base64.b64decode(val)
    out = dill.loads(blob)
    return JsonResponse({"result": str(out)})
