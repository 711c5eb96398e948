"""Request handler for the orders service."""

from django.http import HttpResponse
from django.http import JsonResponse
from django.utils.html import escape


def search(request):
    val = request.GET.get("q", "")
    return HttpResponse("<p>No results for %s</p>" % escape(val))
