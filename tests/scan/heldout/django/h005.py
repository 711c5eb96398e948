"""View used by the admin back office."""

from django.http import HttpResponse
from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    return HttpResponse("<p>No results for %s</p>" % val)
