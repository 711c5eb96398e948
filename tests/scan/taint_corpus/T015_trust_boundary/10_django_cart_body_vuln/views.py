"""RP-T015: a Django view keeps the posted cart in the session."""

import json

from django.http import JsonResponse


def save_cart(request):
    payload = json.loads(request.body)
    request.session["cart"] = payload["items"]  # expect: RP-T015 CWE-501
    return JsonResponse({"items": len(request.session["cart"])})
