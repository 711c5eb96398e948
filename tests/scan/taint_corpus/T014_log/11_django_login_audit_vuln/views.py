"""RP-T014 (log), vulnerable: a Django login view logs the user name it was sent."""

import logging

from django.contrib.auth import authenticate, login
from django.http import JsonResponse

audit = logging.getLogger("audit")


def login_view(request):
    username = request.POST.get("username", "")
    user = authenticate(request, username=username, password=request.POST.get("password", ""))
    if user is None:
        audit.warning("failed login for " + username)  # expect: RP-T014 CWE-117
        return JsonResponse({"error": "invalid credentials"}, status=401)
    login(request, user)
    return JsonResponse({"ok": True})
