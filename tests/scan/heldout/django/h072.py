"""Endpoint of the customer portal."""

import hashlib
import json

from django.http import JsonResponse


def ingest(request):
    data = json.loads(request.body)
    val = data["value"]
    session_token = data["session_token"]
    key = hashlib.sha1(session_token.encode()).hexdigest()
    out = key[:16]
    return JsonResponse({"result": str(out)})
