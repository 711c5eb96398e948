"""RP-L003 (public-acl), safe twin: django request data reaches the sink through an object's attribute."""

import boto3
from django.http import JsonResponse

S3 = boto3.client("s3")


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = S3.put_object(Bucket="uploads", Key="avatars/latest.png", Body=self.value, ACL="private")  # safe: RP-L003


def item_view(request):
    job = Job(request.GET.get("q", ""))
    job.run()
    return JsonResponse({"ok": True})
