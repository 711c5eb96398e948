"""RP-T011: a Django login view sends the user on to ?next= after signing in."""

from django.contrib.auth import authenticate, login
from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def sign_in(request):
    next_url = request.GET.get("next", "/")
    user = authenticate(request, username=request.POST["username"],
                        password=request.POST["password"])
    if user is None:
        return HttpResponseForbidden("bad credentials")
    login(request, user)
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return redirect(next_url)  # safe: RP-T011
