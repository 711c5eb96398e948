"""RP-T007 (template), safe twin: django request data reaches the sink through an object's attribute."""

import json

import jinja2
from django.http import JsonResponse


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = jinja2.Template("Hello {{ name }}!").render(name=self.value)  # safe: RP-T007


def item_view(request):
    payload = json.loads(request.body)
    job = Job(payload["value"])
    job.run()
    return JsonResponse({"ok": True})
