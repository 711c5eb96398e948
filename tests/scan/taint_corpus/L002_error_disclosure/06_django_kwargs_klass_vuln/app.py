"""RP-L002 (error-disclosure), vulnerable: django kwargs request data reaches the sink through an object's attribute."""

import json

from django.http import JsonResponse


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        try:
            order = json.loads(self.value)
            total = sum(line["price"] * line["qty"] for line in order["lines"])
            result = JsonResponse({"total": total}, status=200)
        except Exception as exc:
            result = JsonResponse({"error": repr(exc)}, status=500)  # expect: RP-L002 CWE-209
        return result


def item_detail(request, slug):
    job = Job(slug)
    result = job.run()
    return result
