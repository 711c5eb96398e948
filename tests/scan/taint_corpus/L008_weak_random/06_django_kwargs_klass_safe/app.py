"""RP-L008 (weak-random), safe twin: django kwargs request data reaches the sink through an object's attribute."""

import secrets

from django.http import JsonResponse


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        reset_code = str(secrets.randbelow(900000) + 100000)  # safe: RP-L008
        result = {self.value: reset_code}


def item_detail(request, slug):
    job = Job(slug)
    job.run()
    return JsonResponse({"ok": True})
