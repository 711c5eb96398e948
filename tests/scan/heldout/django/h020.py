"""Endpoint of the notifications service."""

import subprocess

from django.http import JsonResponse
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        pkg = val
        out = subprocess.run("pip download --no-deps -d /tmp/pkgs " + pkg, shell=True).returncode
        return JsonResponse({"result": str(out)})
