"""Request handler for the orders service."""

from django.http import HttpResponse
from django.http import JsonResponse
from django.utils.safestring import mark_safe


def update(request):
    val = request.POST["name"]
    html = mark_safe("<b>" + val + "</b>")
    return HttpResponse(html)
