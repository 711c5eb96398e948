"""RP-T010 (ldap), vulnerable: django request data reaches the sink through str.format."""

from django.http import JsonResponse
from ldap3 import Connection, Server

LDAP = Connection(Server("ldap://ldap.internal"), auto_bind=True)


def item_view(request):
    value = "{}".format(request.META.get("HTTP_X_ITEM", "")).strip()
    result = LDAP.search("ou=groups,dc=example,dc=com", "(&(objectClass=groupOfNames)(cn=%s))" % value)  # expect: RP-T010 CWE-90
    return JsonResponse({"ok": True})
