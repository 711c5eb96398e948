"""Endpoint of the customer portal."""

from django.http import JsonResponse
from django.template import Context, Template


def update(request):
    val = request.POST["name"]
    out = Template("<p>Thanks, %s</p>" % val).render(Context())
    return JsonResponse({"result": str(out)})
