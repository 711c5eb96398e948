"""RP-T011: a Django login view sends the user on to ?next= after signing in."""

from django.contrib.auth import authenticate, login
from django.http import HttpResponseForbidden
from django.shortcuts import redirect


def sign_in(request):
    next_url = request.GET.get("next", "/")
    user = authenticate(request, username=request.POST["username"],
                        password=request.POST["password"])
    if user is None:
        return HttpResponseForbidden("bad credentials")
    login(request, user)
    return redirect(next_url)  # expect: RP-T011 CWE-601
