"""Endpoint of the notifications service."""

import os

import redis
from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    cache = redis.Redis(host="cache.internal", port=6379, password=os.environ.get("REDIS_PASSWORD"))
    out = cache.get(val)
    return JsonResponse({"result": str(out)})
