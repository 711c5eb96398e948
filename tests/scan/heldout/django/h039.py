"""Endpoint of the customer portal."""

import random

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    type Token = str
    def new_secret[T](prefix: T) -> Token:
        return f"{prefix}_{random.randbytes(16).hex()}"
    out = new_secret("whsec")
    return JsonResponse({"result": str(out)})
