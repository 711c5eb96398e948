"""Handler of the catalogue service."""

import random

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    otp = random.randint(100000, 999999)
    out = {"user": val, "otp_sent": otp > 0}
    return JsonResponse({"result": str(out)})
