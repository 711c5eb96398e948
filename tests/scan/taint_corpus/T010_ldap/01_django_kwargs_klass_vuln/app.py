"""RP-T010 (ldap), vulnerable: django kwargs request data reaches the sink through an object's attribute."""

from django.http import JsonResponse
from ldap3 import Connection, Server

LDAP = Connection(Server("ldap://ldap.internal"), auto_bind=True)


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = LDAP.search("dc=example,dc=com", "(uid=" + self.value + ")", attributes=["mail"])  # expect: RP-T010 CWE-90


def item_detail(request, slug):
    job = Job(slug)
    job.run()
    return JsonResponse({"ok": True})
