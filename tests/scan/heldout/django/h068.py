"""Function behind the public API gateway."""

import smtplib
import ssl

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    context = ssl.create_default_context()
    with smtplib.SMTP("smtp.example.com", 587) as smtp:
        smtp.starttls(context=context)
        out = smtp.noop()
    return JsonResponse({"result": str(out)})
