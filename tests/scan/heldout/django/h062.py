"""Endpoint of the customer portal."""

import logging
import sys
import traceback

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    try:
        out = open("/srv/data/" + "report.csv").read()
    except OSError:
        logging.getLogger("reports").error("".join(traceback.format_exception(*sys.exc_info())))
        return JsonResponse({"error": "report unavailable"}, status=500)
    return JsonResponse({"result": str(out)})
