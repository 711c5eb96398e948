"""Endpoint of the billing service."""

from django.http import JsonResponse
from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars


def search(request):
    val = request.GET.get("q", "")
    conn = Connection(Server("ldap.internal"), auto_bind=True)
    out = conn.search("dc=corp", f"(sAMAccountName={escape_filter_chars(val)})", attributes=["mail"])
    return JsonResponse({"result": str(out)})
