"""Endpoint of the notifications service."""

import paramiko
from django.http import JsonResponse
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        ssh = paramiko.SSHClient()
        ssh.set_missing_host_key_policy(paramiko.RejectPolicy())
        ssh.connect("backup.internal", username="deploy", password="D3ploy!2024")
        out = "connected"
        return JsonResponse({"result": str(out)})
