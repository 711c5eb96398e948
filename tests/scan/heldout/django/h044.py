"""Webhook and integration endpoint."""

import sys
import traceback

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    try:
        out = open("/srv/data/" + "report.csv").read()
    except OSError:
        return JsonResponse({"error": "".join(traceback.format_exception(*sys.exc_info()))}, status=500)
    return JsonResponse({"result": str(out)})
