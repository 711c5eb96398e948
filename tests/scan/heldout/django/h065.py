"""Handler of the catalogue service."""

import secrets
from http.cookies import SimpleCookie

from django.http import JsonResponse
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        jar = SimpleCookie()
        jar["session_token"] = secrets.token_hex(16)
        jar["session_token"].update({"path": "/", "secure": True, "httponly": True})
        response = JsonResponse({"ok": True})
        response["Set-Cookie"] = jar["session_token"].OutputString()
        return response
