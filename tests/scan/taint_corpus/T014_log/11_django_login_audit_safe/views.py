"""RP-T014 (log), safe twin: CR/LF are replaced before the user name is logged."""

import logging

from django.contrib.auth import authenticate, login
from django.http import JsonResponse

audit = logging.getLogger("audit")


def login_view(request):
    username = request.POST.get("username", "")
    user = authenticate(request, username=username, password=request.POST.get("password", ""))
    if user is None:
        shown = username.replace("\r", "\\r").replace("\n", "\\n")
        audit.warning("failed login for " + shown)  # safe: RP-T014
        return JsonResponse({"error": "invalid credentials"}, status=401)
    login(request, user)
    return JsonResponse({"ok": True})
