"""Handler of the reporting API."""

from defusedxml.ElementTree import fromstring
from django.http import JsonResponse


def update(request):
    val = request.POST["name"]
    out = fromstring(val).tag
    return JsonResponse({"result": str(out)})
