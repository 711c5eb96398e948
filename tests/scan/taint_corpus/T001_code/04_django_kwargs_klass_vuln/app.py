"""RP-T001 (code), vulnerable: django kwargs request data reaches the sink through an object's attribute."""

from django.http import JsonResponse


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = eval(self.value)  # expect: RP-T001 CWE-94


def item_detail(request, slug):
    job = Job(slug)
    job.run()
    return JsonResponse({"ok": True})
