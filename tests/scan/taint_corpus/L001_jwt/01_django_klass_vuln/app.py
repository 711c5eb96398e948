"""RP-L001 (jwt), vulnerable: django request data reaches the sink through an object's attribute."""

import jwt
from django.http import JsonResponse


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = jwt.decode(self.value, options={"verify_signature": False})  # expect: RP-L001 CWE-347


def item_view(request):
    job = Job(request.POST["name"])
    job.run()
    return JsonResponse({"ok": True})
