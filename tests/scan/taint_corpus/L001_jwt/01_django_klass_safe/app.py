"""RP-L001 (jwt), safe twin: django request data reaches the sink through an object's attribute."""

import os

import jwt
from django.http import JsonResponse

SECRET_KEY = os.environ["JWT_SECRET"]


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = jwt.decode(self.value, SECRET_KEY, algorithms=["HS256"])  # safe: RP-L001


def item_view(request):
    job = Job(request.POST["name"])
    job.run()
    return JsonResponse({"ok": True})
