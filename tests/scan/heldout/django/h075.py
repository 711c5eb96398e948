"""Handler for account self-service."""

from django.http import JsonResponse
from ldap3 import Connection, Server


def search(request):
    val = request.GET.get("q", "")
    conn = Connection(Server("ldap.internal"), auto_bind=True)
    out = conn.search("dc=corp", f"(sAMAccountName={val})", attributes=["mail"])
    return JsonResponse({"result": str(out)})
