"""RP-L002 (error-disclosure), safe twin: django kwargs request data reaches the sink through an object's attribute."""

import json
import logging

from django.http import JsonResponse

LOG = logging.getLogger(__name__)


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        try:
            order = json.loads(self.value)
            total = sum(line["price"] * line["qty"] for line in order["lines"])
            result = JsonResponse({"total": total}, status=200)
        except Exception:
            LOG.exception("order total failed")
            result = JsonResponse({"error": "internal error"}, status=500)  # safe: RP-L002
        return result


def item_detail(request, slug):
    job = Job(slug)
    result = job.run()
    return result
