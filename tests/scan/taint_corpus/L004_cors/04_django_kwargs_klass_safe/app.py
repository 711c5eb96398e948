"""RP-L004 (cors), safe twin: django kwargs request data reaches the sink through an object's attribute."""

from django.http import JsonResponse


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = JsonResponse({"q": self.value})
        result["Access-Control-Allow-Origin"] = "https://app.example.com"  # safe: RP-L004
        result["Access-Control-Allow-Credentials"] = "true"
        return result


def item_detail(request, slug):
    job = Job(slug)
    result = job.run()
    return result
