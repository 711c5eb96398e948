"""Handler of the reporting API."""

from django.http import HttpResponseRedirect
from django.http import JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme


def search(request):
    val = request.GET.get("q", "")
    nxt = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=True):
        nxt = "/"
    return HttpResponseRedirect(nxt)
