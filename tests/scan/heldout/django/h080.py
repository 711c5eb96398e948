"""Endpoint of the notifications service."""

import ldap
from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    conn = ldap.initialize("ldap://ldap.internal")
    query = "(&(cn=" + val + ")(memberOf=cn=staff,dc=corp))"
    out = conn.search_s("dc=corp", ldap.SCOPE_SUBTREE, query)
    return JsonResponse({"result": str(out)})
