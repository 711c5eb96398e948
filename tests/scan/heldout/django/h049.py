"""Endpoint of the notifications service."""

import secrets

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    otp = secrets.randbelow(900000) + 100000
    out = {"user": val, "otp_sent": otp > 0}
    return JsonResponse({"result": str(out)})
