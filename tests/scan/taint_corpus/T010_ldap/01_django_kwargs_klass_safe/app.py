"""RP-T010 (ldap), safe twin: django kwargs request data reaches the sink through an object's attribute."""

from django.http import JsonResponse
from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars

LDAP = Connection(Server("ldap://ldap.internal"), auto_bind=True)


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = LDAP.search("dc=example,dc=com", "(uid=" + escape_filter_chars(self.value) + ")", attributes=["mail"])  # safe: RP-T010


def item_detail(request, slug):
    job = Job(slug)
    job.run()
    return JsonResponse({"ok": True})
