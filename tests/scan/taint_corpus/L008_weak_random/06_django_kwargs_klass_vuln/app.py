"""RP-L008 (weak-random), vulnerable: django kwargs request data reaches the sink through an object's attribute."""

import random

from django.http import JsonResponse


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        reset_code = str(random.randint(100000, 999999))  # expect: RP-L008 CWE-330
        result = {self.value: reset_code}


def item_detail(request, slug):
    job = Job(slug)
    job.run()
    return JsonResponse({"ok": True})
