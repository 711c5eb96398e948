"""Handler for account self-service."""

from django.http import JsonResponse
from django.template import Context, Template


def update(request):
    val = request.POST["name"]
    out = Template("<p>Thanks, {{ name }}</p>").render(Context({"name": val}))
    return JsonResponse({"result": str(out)})
