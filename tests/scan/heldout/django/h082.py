"""Endpoint of the customer portal."""

import subprocess

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    target = val
    out = subprocess.check_output("nslookup " + target, shell=True)
    return JsonResponse({"result": str(out)})
