"""Endpoint of the notifications service."""

from django.http import HttpResponse
from django.http import JsonResponse
from django.utils.html import format_html
from django.utils.safestring import mark_safe


def update(request):
    val = request.POST["name"]
    html = format_html("<b>{}</b>", val)
    return HttpResponse(html)
