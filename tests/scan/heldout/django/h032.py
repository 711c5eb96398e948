"""Handler of the catalogue service."""

import ipaddress
import subprocess

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    target = str(ipaddress.ip_address(val))
    out = subprocess.check_output(["nslookup", target])
    return JsonResponse({"result": str(out)})
