"""Endpoint of the billing service."""

import socket
import ssl

from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    ctx = ssl.create_default_context()
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    with socket.create_connection(("ledger.example.com", 443)) as raw:
        with ctx.wrap_socket(raw, server_hostname="ledger.example.com") as tls:
            out = tls.version()
    return JsonResponse({"result": str(out)})
