"""View used by the admin back office."""

import smtplib
import ssl

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    context = ssl._create_unverified_context()
    with smtplib.SMTP("smtp.example.com", 587) as smtp:
        smtp.starttls(context=context)
        out = smtp.noop()
    return JsonResponse({"result": str(out)})
