"""Webhook and integration endpoint."""

import subprocess

from django.http import JsonResponse
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        pkg = val
        if pkg not in {"requests", "flask", "django"}:
            return JsonResponse({"error": "unknown package"}, status=400)
        out = subprocess.run("pip download --no-deps -d /tmp/pkgs " + pkg, shell=True).returncode
        return JsonResponse({"result": str(out)})
