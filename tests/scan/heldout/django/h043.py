"""Request handler for the orders service."""

import base64
import json

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    type Payload = bytes
    blob: Payload = base64.b64decode(val)
    out = json.loads(blob)
    return JsonResponse({"result": str(out)})
