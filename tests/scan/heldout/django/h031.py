"""Endpoint of the notifications service."""

import redis
from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    cache = redis.Redis(host="cache.internal", port=6379, password="r3d1s-s3cr3t")
    out = cache.get(val)
    return JsonResponse({"result": str(out)})
