"""View used by the admin back office."""

from django.http import HttpResponseRedirect
from django.http import JsonResponse


def search(request):
    val = request.GET.get("q", "")
    nxt = request.GET.get("next", "/")
    return HttpResponseRedirect(nxt)
