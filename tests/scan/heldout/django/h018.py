"""View used by the admin back office."""

import os

import paramiko
from django.http import JsonResponse
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        ssh = paramiko.SSHClient()
        ssh.set_missing_host_key_policy(paramiko.RejectPolicy())
        ssh.connect("backup.internal", username="deploy", password=os.environ["DEPLOY_PASSWORD"])
        out = "connected"
        return JsonResponse({"result": str(out)})
