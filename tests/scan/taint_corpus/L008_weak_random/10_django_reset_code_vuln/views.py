"""RP-L008: a Django view mails a password-reset code."""

import random

from django.core.mail import send_mail
from django.http import JsonResponse


def request_reset(request):
    email = request.POST["email"]
    code = "".join(str(random.randint(0, 9)) for _ in range(8))  # expect: RP-L008 CWE-330
    send_mail("Your reset code", f"Code: {code}", "noreply@example.com", [email])
    return JsonResponse({"sent": True})
