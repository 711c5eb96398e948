"""RP-T001 (code), safe twin: django kwargs request data reaches the sink through an object's attribute."""

import ast

from django.http import JsonResponse


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = ast.literal_eval(self.value)  # safe: RP-T001


def item_detail(request, slug):
    job = Job(slug)
    job.run()
    return JsonResponse({"ok": True})
