"""Endpoint of the billing service."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View


class ItemView(View):
    def post(self, request, *args, **kwargs):
        val = request.POST.get("value", "")
        if not url_has_allowed_host_and_scheme(val, allowed_hosts=None):
            val = "/"
        return redirect(val)
