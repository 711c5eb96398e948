"""Request handler for the orders service."""

import secrets

from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    response = JsonResponse({"ok": True})
    response.set_cookie("auth_token", secrets.token_hex(32), max_age=3600, secure=True, httponly=True)
    return response
