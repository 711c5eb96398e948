"""Request handler for the orders service."""

import logging

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    audit = logging.getLogger("audit")
    ref = val
    audit.error("unknown referral code %s" % ref)
    out = "unknown"
    return JsonResponse({"result": str(out)})
