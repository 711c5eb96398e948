"""Handler of the catalogue service."""

import hashlib
import json

from django.http import JsonResponse


def ingest(request):
    data = json.loads(request.body)
    val = data["value"]
    session_token = data["session_token"]
    key = hashlib.sha256(session_token.encode()).hexdigest()
    out = key[:16]
    return JsonResponse({"result": str(out)})
