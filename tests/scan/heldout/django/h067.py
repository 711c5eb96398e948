"""Request handler for the orders service."""

import hashlib

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    token = request.POST["api_token"]
    stored = hashlib.sha1(token.encode()).hexdigest()
    out = stored
    return JsonResponse({"result": str(out)})
