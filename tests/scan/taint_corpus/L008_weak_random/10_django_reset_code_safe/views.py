"""RP-L008: a Django view mails a password-reset code."""

import secrets

from django.core.mail import send_mail
from django.http import JsonResponse


def request_reset(request):
    email = request.POST["email"]
    code = "".join(str(secrets.randbelow(10)) for _ in range(8))  # safe: RP-L008
    send_mail("Your reset code", f"Code: {code}", "noreply@example.com", [email])
    return JsonResponse({"sent": True})
