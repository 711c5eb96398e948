"""Handler of the catalogue service."""

import logging

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    audit = logging.getLogger("audit")
    ref = repr(val)
    audit.error("unknown referral code %s" % ref)
    out = "unknown"
    return JsonResponse({"result": str(out)})
