"""RP-T010 (ldap), safe twin: django request data reaches the sink through str.format."""

import re

from django.http import JsonResponse
from ldap3 import Connection, Server

LDAP = Connection(Server("ldap://ldap.internal"), auto_bind=True)


def item_view(request):
    value = "{}".format(request.META.get("HTTP_X_ITEM", "")).strip()
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", value):
        raise ValueError("bad group")
    result = LDAP.search("ou=groups,dc=example,dc=com", "(&(objectClass=groupOfNames)(cn=%s))" % value)  # safe: RP-T010
    return JsonResponse({"ok": True})
