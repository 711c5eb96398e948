"""Function behind the public API gateway."""

import ldap
from django.http import JsonResponse
from ldap.filter import filter_format


def update(request):
    val = request.POST["name"]
    conn = ldap.initialize("ldap://ldap.internal")
    query = filter_format("(&(cn=%s)(memberOf=cn=staff,dc=corp))", [val])
    out = conn.search_s("dc=corp", ldap.SCOPE_SUBTREE, query)
    return JsonResponse({"result": str(out)})
